//! The route table exists three times: in the functions' routers, in the local `cargo lambda watch`
//! router (Cargo.toml) and in template.yaml. They must agree, route for route.

use std::collections::BTreeSet;

use chat_tests::{functions, normalize_route, process::repo_root};

/// (METHOD, path, function) as the routers serve them.
/// The documents and Swagger UI files under /api/docs and the web client under /app reach `meta`
/// through its catch-all (watch: `/{*rest}`, API Gateway: `ANY /{proxy+}`), so they are not listed
/// one by one.
fn router_routes() -> BTreeSet<(String, String, String)> {
    functions()
        .into_iter()
        .flat_map(|(function, api)| {
            api.table()
                .iter()
                .filter(|route| function != "meta" || !meta::served_by_catch_all(route.path))
                .map(|route| {
                    (
                        route.method.to_string(),
                        normalize_route(route.path),
                        function.to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (path, function) from `[workspace.metadata.lambda.watch.router]`, without the catch-all.
fn watch_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("watch router table");
    assert_eq!(
        router["/{*rest}"].as_str(),
        Some("meta"),
        "unknown paths go to meta"
    );
    router
        .iter()
        .filter(|(path, _)| path.as_str() != "/{*rest}")
        .map(|(path, function)| (normalize_route(path), function.as_str().unwrap().to_owned()))
        .collect()
}

/// (METHOD, path, function) from the HttpApi events of template.yaml, without meta's fallback.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let mut function = String::new();
    let mut routes = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(binary) = line.strip_prefix("Binary: ") {
            function = binary.trim().to_owned();
        }
        if let Some(props) = line.strip_prefix("Properties: { ApiId: !Ref HttpApi, ") {
            let props = props.trim_end_matches('}').trim();
            let (method, path) = props.split_once(", Path: ").expect("Method, Path");
            let method = method.trim_start_matches("Method: ").to_owned();
            let path = path.trim().trim_matches('"');
            if method == "ANY" && path == "/{proxy+}" {
                assert_eq!(function, "meta", "unknown paths go to meta");
                continue;
            }
            routes.insert((method, normalize_route(path), function.clone()));
        }
    }
    routes
}

#[test]
fn routers_watch_router_and_template_agree() {
    let routers = router_routes();
    assert!(routers.len() >= 30, "{routers:?}");
    let templated = template_routes();
    assert_eq!(
        routers.difference(&templated).collect::<Vec<_>>(),
        Vec::<&(String, String, String)>::new(),
        "served but missing from template.yaml"
    );
    assert_eq!(
        templated.difference(&routers).collect::<Vec<_>>(),
        Vec::<&(String, String, String)>::new(),
        "in template.yaml but not served"
    );

    let watched = watch_routes();
    let served: BTreeSet<(String, String)> = routers
        .iter()
        .map(|(_, path, function)| (path.clone(), function.clone()))
        .collect();
    assert_eq!(
        served, watched,
        "Cargo.toml's watch router differs from the routers"
    );
}

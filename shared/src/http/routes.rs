//! `Api`: a function's routes and the table of them, built by the same calls, so the table that the
//! route-agreement test compares with `template.yaml` and the local watch router cannot drift from
//! what the router serves.

use axum::{handler::Handler, http::Method, routing, Router};

use crate::AppContext;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

#[derive(Default)]
pub struct Api {
    router: Router<AppContext>,
    table: Vec<Route>,
}

macro_rules! method {
    ($name:ident, $method:ident) => {
        pub fn $name<H, T>(self, path: &'static str, handler: H) -> Self
        where
            H: Handler<T, AppContext>,
            T: 'static,
        {
            self.add(Method::$method, path, routing::$name(handler))
        }
    };
}

impl Api {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(
        mut self,
        method: Method,
        path: &'static str,
        handler: routing::MethodRouter<AppContext>,
    ) -> Self {
        self.table.push(Route { method, path });
        self.router = self.router.route(path, handler);
        self
    }

    method!(get, GET);
    method!(post, POST);
    method!(put, PUT);
    method!(patch, PATCH);
    method!(delete, DELETE);

    pub fn table(&self) -> &[Route] {
        &self.table
    }

    pub fn into_router(self) -> Router<AppContext> {
        self.router
    }
}

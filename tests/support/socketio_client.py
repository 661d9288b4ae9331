"""python-socketio as a user's bot or integration uses it, driven by the suite (tests/support/python.rs).

Connects to the `/chat` namespace with an access token over one transport, prints one JSON line per
thing that happens ({"event": name, "data": payload}: connect, connect_error, every server event, the
ack of a sent message), and exits when its standard input closes or after --timeout seconds.

    python socketio_client.py --url http://127.0.0.1:3002 --token T --transport websocket
        [--send RECEIVER_ID TEXT]
"""

import argparse
import json
import sys
import threading

import socketio

NAMESPACE = "/chat"


# python-socketio runs handlers on threads of their own: one line at a time, whole.
PRINTING = threading.Lock()


def say(event, data=None):
    line = json.dumps({"event": event, "data": data}) + "\n"
    with PRINTING:
        sys.stdout.write(line)
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--transport", choices=["websocket", "polling"], required=True)
    parser.add_argument("--send", nargs=2, metavar=("RECEIVER_ID", "TEXT"))
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    client = socketio.Client(reconnection=False)

    @client.on("connect", namespace=NAMESPACE)
    def on_connect():
        say("connect", {"transport": client.transport()})

    @client.on("connect_error", namespace=NAMESPACE)
    def on_connect_error(data):
        say("connect_error", data)

    @client.on("*", namespace=NAMESPACE)
    def on_any(event, data=None):
        say(event, data)

    try:
        client.connect(
            args.url,
            namespaces=[NAMESPACE],
            transports=[args.transport],
            auth={"token": args.token},
            wait_timeout=10,
        )
    except socketio.exceptions.ConnectionError as err:
        say("connect_error", {"message": str(err)})
        return 0

    if args.send:
        receiver, text = args.send
        ack = client.call(
            "sendMessage",
            {"messageData": {"chatType": "PRIVATE", "receiver": receiver, "message": text}},
            namespace=NAMESPACE,
            timeout=10,
        )
        say("ack", ack)

    closed = threading.Event()

    def wait_for_stdin():
        sys.stdin.read()
        closed.set()

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    closed.wait(args.timeout)
    client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())

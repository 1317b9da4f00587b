"""`pcnkit serve` with several workers binds its own listening socket (web/server.py): Nagle's
algorithm must be off on it, or every response waits ~40 ms for the client's delayed ACK."""

import socket

from pcnkit.web.server import NoDelayConfig


def test_the_listening_socket_and_its_connections_have_nagle_off():
    config = NoDelayConfig("pcnkit.web.server:app_from_environment", host="127.0.0.1", port=0)
    listener = config.bind_socket()
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        listener.close()

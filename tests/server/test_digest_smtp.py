"""`portal cases --remind`'s e-mail digest through smtplib, to an SMTP server on 127.0.0.1."""

from __future__ import annotations

from portal import accounts, case_messages, cases


def test_reminders_through_smtplib_to_a_fake_server_on_localhost(demo_db):
    """The real smtplib path, against a minimal SMTP server on 127.0.0.1 (no network)."""
    import socketserver
    import threading

    from portal import notify

    received: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 fake ESMTP\r\n")
            while line := self.rfile.readline():
                cmd = line.strip().upper()
                if cmd.startswith((b"EHLO", b"HELO")):
                    self.wfile.write(b"250 fake\r\n")
                elif cmd == b"DATA":
                    self.wfile.write(b"354 go on\r\n")
                    body = b""
                    while (chunk := self.rfile.readline()) != b".\r\n":
                        body += chunk
                    received.append(body)
                    self.wfile.write(b"250 queued\r\n")
                elif cmd == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cfg = notify.config_from_env(
            {
                "PORTAL_SMTP_HOST": "127.0.0.1",
                "PORTAL_SMTP_PORT": str(server.server_address[1]),
                "PORTAL_NOTIFY_TO": "duban@example.edu.cn",
            }
        )
        listed = cases.list_cases(
            demo_db, accounts.find_user(demo_db, "admin"), states=list(cases.OPEN_STATES)
        )
        messages = case_messages.digests(cfg, listed)
        assert notify.send(cfg, messages) == len(messages) > 1
        server.shutdown()
    assert len(received) == len(messages)
    assert b"duban@example.edu.cn" in received[0]

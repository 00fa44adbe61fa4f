#!/usr/bin/env python3
"""TLS probe of the ACME suite: connects to 127.0.0.1:PORT with SNI NAME,
verifies the chain against CAFILE with hostname checking (Python's default
context: no verification turned off), prints the leaf's serial in hex.

    acme-tls.py PORT NAME CAFILE              serial
    acme-tls.py PORT NAME CAFILE --echo       serial, after sending random
                                              bytes and reading them back
    acme-tls.py PORT NAME -                   serial, without verification
                                              (to see what is served)

Exits 1 with the reason on stderr when the handshake or the check fails.
"""
import os
import socket
import ssl
import sys


def main():
    port, name, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    echo = "--echo" in sys.argv[4:]
    if cafile == "-":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=cafile)
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            der = s.getpeercert(binary_form=True)
            if echo:
                data = os.urandom(32).hex().encode()
                s.sendall(data)
                got = b""
                while len(got) < len(data):
                    chunk = s.recv(len(data) - len(got))
                    if not chunk:
                        break
                    got += chunk
                if got != data:
                    print("echo: sent %d bytes, got %r" % (len(data), got[:80]),
                          file=sys.stderr)
                    return 1
    except (OSError, ssl.SSLError) as e:
        print("%s:%d (%s): %s" % ("127.0.0.1", port, name, e), file=sys.stderr)
        return 1
    print(serial_of(der))
    return 0


def serial_of(der):
    """The serial number of a DER certificate, hex, parsed by openssl."""
    import subprocess
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                          "-serial"], input=der, capture_output=True,
                         check=True).stdout.decode()
    return out.strip().split("=", 1)[1]


if __name__ == "__main__":
    sys.exit(main())

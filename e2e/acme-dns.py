#!/usr/bin/env python3
"""A DNS stub for the ACME suite: every A query is answered 127.0.0.1, any
other type with an empty NOERROR answer, so that pebble's validator reaches
nginx on this machine for meet.* and turn.*.  Each query is logged to
stdout as "QUERY <type> <name>" (the suite asserts the validator asked).

    acme-dns.py PORT [ANSWER [LISTEN]]
        UDP and TCP on LISTEN:PORT, every A answer ANSWER (both 127.0.0.1
        by default; e2e/docker.sh's hosts are network namespaces with
        addresses of their own)
"""
import socket
import socketserver
import struct
import sys
import threading

MAX_NAME = 255


def parse_question(msg):
    """(id, flags, qname, qtype, end of question) or None if malformed."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n > 63 or pos + n > len(msg):
            return None
        labels.append(msg[pos:pos + n])
        pos += n
        if sum(len(x) + 1 for x in labels) > MAX_NAME:
            return None
    if pos + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    name = b".".join(labels).decode("ascii", "replace")
    return qid, flags, name, qtype, pos + 4


ADDRESS = "127.0.0.1"    # the A answer


def answer(msg):
    q = parse_question(msg)
    if q is None:
        return None
    qid, flags, name, qtype, end = q
    rd = flags & 0x0100
    printable = "".join(c if c.isalnum() or c in ".-_" else "?" for c in name)
    print("QUERY %d %s" % (qtype, printable), flush=True)
    ancount = 1 if qtype == 1 else 0
    head = struct.pack("!HHHHHH", qid, 0x8400 | rd, 1, ancount, 0, 0)
    body = msg[12:end]
    if ancount:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4)
        body += socket.inet_aton(ADDRESS)
    return head + body


class UDP(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = answer(data[:512])
        if reply:
            sock.sendto(reply, self.client_address)


class TCP(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        head = self.request.recv(2)
        if len(head) != 2:
            return
        (n,) = struct.unpack("!H", head)
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                return
            data += chunk
        reply = answer(data)
        if reply:
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


def main():
    global ADDRESS
    port = int(sys.argv[1])
    if len(sys.argv) > 2:
        ADDRESS = socket.inet_ntoa(socket.inet_aton(sys.argv[2]))
    listen = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    socketserver.ThreadingUDPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    udp = socketserver.ThreadingUDPServer((listen, port), UDP)
    tcp = socketserver.ThreadingTCPServer((listen, port), TCP)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    print("READY", flush=True)
    udp.serve_forever()


if __name__ == "__main__":
    main()

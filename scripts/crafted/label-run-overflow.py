#!/usr/bin/env python3
"""Writes Tests/Fixtures/crafted/label-run-overflow.pb: the profile that crashed the hand-written Sample decoder
(a canonical label, then 2,000 labels whose tag is encoded in two bytes 0x9A 0x00; then 3,000 small samples
`location, value, label(k=v), location, label(k=num i)`). Valid protobuf that protobuf-c accepts."""
import os

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def field(num, wire, payload=b"", tag_bytes=1):
    tag = (num << 3) | wire
    if tag_bytes == 1:
        t = varint(tag)
    else:  # the same tag, padded to two bytes (non-canonical but valid)
        t = bytes([(tag & 0x7F) | 0x80, tag >> 7])
    if wire == 2:
        return t + varint(len(payload)) + payload
    return t + payload

def label(key, s=None, num=None, tag_bytes=1):
    body = field(1, 0, varint(key))
    if s is not None:
        body += field(2, 0, varint(s))
    if num is not None:
        body += field(3, 0, varint(num))
    return field(3, 2, body, tag_bytes)

strings = ["", "cpu", "nanoseconds", "main", "main.go", "k", "v", "n"]
p = bytearray()
p += field(1, 2, field(1, 0, varint(1)) + field(2, 0, varint(2)))  # sample_type cpu/nanoseconds
first = field(1, 2, varint(1)) + field(2, 2, varint(1)) + label(5, s=6)
for _ in range(2000):
    first += label(5, s=6, tag_bytes=2)
p += field(2, 2, first)
for i in range(1, 3001):
    s = field(1, 0, varint(1)) + field(2, 0, varint(1)) + label(5, s=6) + field(1, 0, varint(1)) + label(7, num=i)
    p += field(2, 2, s)
p += field(4, 2, field(1, 0, varint(1)) + field(4, 2, field(1, 0, varint(1)) + field(2, 0, varint(10))))  # location 1 -> function 1
p += field(5, 2, field(1, 0, varint(1)) + field(2, 0, varint(3)) + field(4, 0, varint(4)))  # function 1 main main.go
for s in strings:
    p += field(6, 2, s.encode())
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(root, "Tests", "Fixtures", "crafted", "label-run-overflow.pb")
with open(out, "wb") as f:
    f.write(p)
print(out, len(p), "bytes")

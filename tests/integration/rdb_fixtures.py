"""Hand-built RDB files and payloads for the RDB tests: encoders for the
RDB primitives (lengths, strings, listpacks, ziplists, intsets) and the
CRC-64 (Jones) Redis uses, so the tests can write files that a newer
writer (Redis 7.2/7.4, Valkey 8) or a broken one would produce."""

import struct

_POLY = 0x95AC9329AC4BC9B5
_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc64(data, crc=0):
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n < 2 ** 32:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def rdb_str(s):
    if isinstance(s, str):
        s = s.encode()
    return rdb_len(len(s)) + s


def _lp_backlen(l):
    if l < 128:
        return bytes([l])
    if l < 16384:
        return bytes([l >> 7, (l & 127) | 128])
    raise ValueError("entry too long for this test encoder")


class LpInt(int):
    """A listpack element written as a 64-bit integer (Redis 7.4 writes
    hash field expiry times so)."""


def listpack(items):
    """A listpack of str/bytes (6/12-bit string encodings), small ints and
    LpInt (64-bit integer encoding)."""
    body = b""
    for it in items:
        if isinstance(it, LpInt):
            enc = b"\xf4" + struct.pack("<q", it)
        elif isinstance(it, int) and 0 <= it < 128:
            enc = bytes([it])
        else:
            if isinstance(it, int):
                it = str(it)
            if isinstance(it, str):
                it = it.encode()
            if len(it) < 64:
                enc = bytes([0x80 | len(it)]) + it
            else:
                enc = bytes([0xE0 | (len(it) >> 8), len(it) & 0xFF]) + it
        body += enc + _lp_backlen(len(enc))
    total = 6 + len(body) + 1
    return struct.pack("<IH", total, len(items)) + body + b"\xff"


def ziplist(items):
    body = b""
    prev = 0
    for it in items:
        if isinstance(it, str):
            it = it.encode()
        pre = bytes([prev]) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        if isinstance(it, int):
            enc = b"\xfe" + struct.pack("<b", it)  # int8
        else:
            assert len(it) < 64
            enc = bytes([len(it)]) + it
        entry = pre + enc
        body += entry
        prev = len(entry)
    total = 10 + len(body) + 1
    tail = 10 if not items else total - 1 - prev
    return struct.pack("<IIH", total, tail, len(items)) + body + b"\xff"


def intset(values, width=2):
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.pack("<II", width, len(values)) + b"".join(struct.pack(fmt, v) for v in sorted(values))


def rdb_file(body, version=10, magic=None, checksum=True):
    """Header + body + EOF + CRC64."""
    head = magic if magic is not None else b"REDIS%04d" % version
    data = head + body + b"\xff"
    return data + struct.pack("<Q", crc64(data) if checksum else 0)


def aux(k, v):
    return b"\xfa" + rdb_str(k) + rdb_str(v)


def selectdb(n):
    return b"\xfe" + rdb_len(n)


def key(type_byte, name, value_bytes, expire_ms=None):
    pre = b"" if expire_ms is None else b"\xfc" + struct.pack("<q", expire_ms)
    return pre + bytes([type_byte]) + rdb_str(name) + value_bytes


def payload(type_byte, value_bytes, version=10):
    """A DUMP payload."""
    data = bytes([type_byte]) + value_bytes + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))

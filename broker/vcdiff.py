"""A VCDIFF (RFC 3284) encoder, for channels attached with `delta: 'vcdiff'`.

No maintained encoder is on PyPI, so this is a small one written against the decoder ably-js uses
(@ably/vcdiff-decoder, which reads open-vcdiff's output): one window whose source segment is the
whole previous payload, the default code table, no secondary compression, no checksum. Matches are
found with a hash of fixed-size blocks of the source and extended greedily; everything else is an
ADD. Instructions use only the table's explicit-size entries (ADD size 0, COPY mode 0 size 0) with
absolute (VCD_SELF) addresses: larger than a tuned encoder's output, but simple and exact.
"""

from __future__ import annotations

MAGIC = bytes([0xD6, 0xC3, 0xC4, 0x00])
HDR_INDICATOR = 0x00  # no secondary compressor, no custom code table
VCD_SOURCE = 0x01
DELTA_INDICATOR = 0x00  # data, instructions and addresses uncompressed
OP_ADD = 1  # default code table: ADD, size in the instruction stream
OP_COPY_SELF = 19  # default code table: COPY mode 0 (VCD_SELF), size in the instruction stream
BLOCK = 4  # shortest match worth a COPY
MAX_CANDIDATES = 8  # source positions remembered per block


def _varint(value: int) -> bytes:
    """RFC 3284 integer: base-128, most significant group first, high bit set on all but the last."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def _block_index(source: bytes) -> dict[bytes, list[int]]:
    index: dict[bytes, list[int]] = {}
    for position in range(len(source) - BLOCK + 1):
        candidates = index.setdefault(source[position : position + BLOCK], [])
        if len(candidates) < MAX_CANDIDATES:
            candidates.append(position)
    return index


def _match_length(source: bytes, at: int, target: bytes, start: int) -> int:
    length = 0
    limit = min(len(source) - at, len(target) - start)
    while length < limit and source[at + length] == target[start + length]:
        length += 1
    return length


def encode(source: bytes, target: bytes) -> bytes:
    """The delta that turns `source` into `target`."""
    index = _block_index(source)
    data, instructions, addresses = bytearray(), bytearray(), bytearray()
    literal_start = 0
    position = 0

    def flush_literal(end: int) -> None:
        if end > literal_start:
            data.extend(target[literal_start:end])
            instructions.append(OP_ADD)
            instructions.extend(_varint(end - literal_start))

    while position <= len(target) - BLOCK:
        best_at, best_length = -1, 0
        for candidate in index.get(target[position : position + BLOCK], ()):
            length = _match_length(source, candidate, target, position)
            if length > best_length:
                best_at, best_length = candidate, length
        if best_length < BLOCK:
            position += 1
            continue
        flush_literal(position)
        instructions.append(OP_COPY_SELF)
        instructions.extend(_varint(best_length))
        addresses.extend(_varint(best_at))
        position += best_length
        literal_start = position
    flush_literal(len(target))

    body = (
        _varint(len(target))
        + bytes([DELTA_INDICATOR])
        + _varint(len(data))
        + _varint(len(instructions))
        + _varint(len(addresses))
        + bytes(data)
        + bytes(instructions)
        + bytes(addresses)
    )
    window = bytes([VCD_SOURCE]) + _varint(len(source)) + _varint(0) if source else bytes([0])
    return MAGIC + bytes([HDR_INDICATOR]) + window + _varint(len(body)) + body

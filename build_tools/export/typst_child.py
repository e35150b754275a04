"""The Typst compiler in a process of its own (``typst_process.TypstProcess`` starts it).

Run as a script, with the most memory it may use (bytes) and an empty folder for Typst's
packages: it compiles each request it reads on standard input and writes the result on
standard output, until its input ends.  A request is a JSON header (``root``, ``format``,
``ppi``) and the Typst source, each preceded by its length; an answer is ``O`` (the
document) or ``E`` (Typst's message), then the payload with its length.
"""
import json
import resource
import struct
import sys
from typing import BinaryIO


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_part(stream: BinaryIO) -> bytes | None:
    head = read_exactly(stream, 4)
    return None if head is None else read_exactly(stream, struct.unpack(">I", head)[0])


def answer(stream: BinaryIO, kind: bytes, payload: bytes) -> None:
    stream.write(kind + struct.pack(">I", len(payload)) + payload)
    stream.flush()


def main() -> None:
    limit, packages = int(sys.argv[1]), sys.argv[2]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import typst

    # only the fonts Typst ships (a handout looks the same everywhere); no package at all
    compiler = typst.Compiler(ignore_system_fonts=True, package_path=packages,
                              package_cache_path=packages)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header, source = read_part(stdin), read_part(stdin)
        if header is None or source is None:
            return
        request = json.loads(header)
        try:
            options = {"ppi": request["ppi"]} if request.get("ppi") else {}
            result = compiler.compile(input=source, root=request["root"],
                                      format=request["format"], **options)
        except typst.TypstError as exc:
            answer(stdout, b"E", str(getattr(exc, "message", exc)).encode("utf-8", "replace"))
        except MemoryError:
            answer(stdout, b"E", b"Typst ran out of the memory it may use")
        else:
            pages = [result] if isinstance(result, bytes) else list(result or [b""])
            answer(stdout, b"O", pages[0])  # a picture is drawn as one page


if __name__ == "__main__":
    main()

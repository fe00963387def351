"""Images out of the journal: blob write/read of a 1 MB image, the journal record
with and without the blob store, resume-time checking, and the memory a
history of screenshots keeps. ``python -m bench blobs``.
"""

from __future__ import annotations

import base64
import gc
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from agentcore.history import VecHistory
from agentcore.messages import ImageBlock, MediaStore, TextBlock, UserMessage
from agentcore.store.blobs import BlobStore, SessionBlobs
from agentcore.store.files import JournalWriter
from agentcore.store.format import JOURNAL_FILE, RecordType, encode, message_record, read_journal, record

AREA = "blobs"
IMAGE_BYTES = 1024 * 1024
RUNS = 20  # writes and reads measured (each write a new image: nothing deduplicated)
SCREENSHOTS = 30  # images in the resumed session and in the memory figure
WRITE_BUDGET_MS = 20.0  # the event loop's part; the fsync moved to the turn's end (BlobStore.sync)
READ_BUDGET_MS = 10.0
RECORD_BUDGET_BYTES = 1024


def _image(seed: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + random.Random(seed).randbytes(IMAGE_BYTES - 8)


def _message(seed: int) -> UserMessage:
    return UserMessage((TextBlock("what is on screen?"), ImageBlock("image/png", base64.b64encode(_image(seed)).decode())))


def _write_read(blobs: BlobStore) -> tuple[float, float, float]:
    images = [_image(1000 + i) for i in range(RUNS)]
    writes, reads, checks, syncs = [], [], [], []
    for data in images:
        start = time.perf_counter()
        blob = blobs.write_blob(data)
        writes.append(time.perf_counter() - start)
        start = time.perf_counter()
        blobs.sync()  # what the turn's end adds, beside the journal's own fsync
        syncs.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert blobs.read_blob(blob) == data
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        blobs.check_blob(blob, len(data))
        checks.append(time.perf_counter() - start)
    global LAST_SYNC_S
    LAST_SYNC_S = statistics.median(syncs)
    return statistics.median(writes), statistics.median(reads), statistics.median(checks)


LAST_SYNC_S = 0.0  # median of the turn-end sync in the last _write_read


def _record_sizes(blobs: MediaStore) -> tuple[int, int]:
    message = _message(1)
    inline = len(encode(message_record(0.0, "turn_1", message)))
    referenced = len(encode(message_record(0.0, "turn_1", message, media=blobs)))
    return inline, referenced


def _resume(root: Path, blobs: BlobStore) -> tuple[float, int]:
    path = root / "sess_bench" / JOURNAL_FILE
    path.parent.mkdir(parents=True)
    writer = JournalWriter.create(path)
    recs = [record(RecordType.SESSION, 0.0, id="sess_bench", cwd=str(root), created=0.0, mode="ask")]
    recs += [message_record(0.0, None, _message(i), media=blobs) for i in range(SCREENSHOTS)]
    writer.write_many(recs)
    writer.close()
    start = time.perf_counter()
    replay = read_journal(path, blobs=SessionBlobs(blobs, "sess_bench"))
    elapsed = time.perf_counter() - start
    assert len(replay.live) == SCREENSHOTS
    return elapsed, path.stat().st_size


def _history_memory(media: MediaStore | None) -> int:
    """Bytes still allocated after appending the screenshots (their originals dropped)."""
    gc.collect()
    tracemalloc.start()
    history = VecHistory(media=media)
    for i in range(SCREENSHOTS):
        history.append(_message(i), count=100)
    gc.collect()
    kept, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(history) == SCREENSHOTS
    return kept


def run() -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="agentcore-bench-blobs-") as tmp:
        root = Path(tmp)
        blobs = BlobStore(root / "blobs")
        write_s, read_s, check_s = _write_read(blobs)
        inline, referenced = _record_sizes(blobs)
        resume_s, journal_size = _resume(root, blobs)
        memory_inline = _history_memory(None)
        memory_refs = _history_memory(BlobStore(root / "blobs-memory"))
    mb = IMAGE_BYTES // (1024 * 1024)
    return [
        (AREA, f"write a {mb} MB image in history.append (temp + rename, on the event loop)", f"{write_s * 1e3:.2f} ms", f"< {WRITE_BUDGET_MS:.0f} ms"),
        (AREA, "its fsync at the turn's end (file + directory)", f"{LAST_SYNC_S * 1e3:.2f} ms", "off the append path"),
        (AREA, f"read a {mb} MB image (hash verified)", f"{read_s * 1e3:.2f} ms", f"< {READ_BUDGET_MS:.0f} ms"),
        (AREA, f"check a {mb} MB image on load (streamed hash)", f"{check_s * 1e3:.2f} ms", "informational"),
        (AREA, f"journal record of a {mb} MB image: inline base64", f"{inline:,} bytes", "before"),
        (AREA, f"journal record of a {mb} MB image: blob reference", f"{referenced:,} bytes", f"< {RECORD_BUDGET_BYTES:,} bytes"),
        (AREA, f"resume a session with {SCREENSHOTS} x {mb} MB images (each checked)", f"{resume_s * 1e3:.0f} ms ({journal_size:,}-byte journal)", "informational"),
        (AREA, f"history of {SCREENSHOTS} screenshots in RAM: inline", f"{memory_inline / 1e6:.1f} MB", "before"),
        (AREA, f"history of {SCREENSHOTS} screenshots in RAM: references", f"{memory_refs / 1e6:.2f} MB", "< 1 MB"),
    ]

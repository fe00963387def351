"""Images out of the journal: a content-addressed blob store beside the sessions.

End to end through a real core, the journal store and the loopback LLM: the
image is written once, the journal names its blob (no base64), history holds
a reference, and every request (also after a resume) carries the same bytes.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest

from agentcore.messages import (
    INLINE_IMAGE_MAX_BYTES,
    ImageBlock,
    ImageRef,
    TextBlock,
    ToolResultMessage,
    UserMessage,
    message_to_dict,
)
from agentcore.store import JournalStore
from agentcore.store.blobs import BLOBS_DIR, BlobCorrupt, BlobMissing, BlobStore, InvalidBlobId, blob_id_of
from agentcore.store.files import JournalWriter
from agentcore.store.format import JOURNAL_FILE, RecordType, message_record, record
from agentcore.llm.anthropic import AnthropicProvider
from fakes.llm_server import sse_reply
from fakes.vendor_wire import an_text_message
from store_support import FAST_RETRY, info, make_core, make_provider, text

IMAGE_BYTES = 64 * 1024  # well over the inline threshold


def png(size: int = IMAGE_BYTES, seed: int = 1) -> bytes:
    """Bytes that look like a PNG (providers never decode them on the loopback)."""
    return b"\x89PNG\r\n\x1a\n" + random.Random(seed).randbytes(size - 8)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def journal_bytes(store: JournalStore, sid: str) -> bytes:
    return (store.sessions_dir / sid / JOURNAL_FILE).read_bytes()


def blob_files(store: JournalStore) -> list[Path]:
    return sorted(p for p in (store.sessions_dir / BLOBS_DIR).rglob("*") if p.is_file())


def wire_images(body: dict) -> list[str]:
    """The base64 of every image in an OpenAI request body (data URLs)."""
    out = []
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if part.get("type") == "image_url":
                    out.append(part["image_url"]["url"].split("base64,", 1)[1])
    return out


async def _session_with_image(store, server, http_client, state_dir, work, data: bytes, provider=None) -> str:
    if provider is None:
        server.enqueue(text("a cat"))
        provider = make_provider(server, http_client)
    core = make_core(store, provider, state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn([TextBlock("what is this?"), ImageBlock("image/png", b64(data))])
        prompt = session.history[0]
        assert isinstance(prompt, UserMessage)
        assert isinstance(prompt.content[1], ImageRef)  # history holds a reference, not the bytes
        if isinstance(store, JournalStore):
            assert store.blobs._unsynced == {}  # made durable at the turn's end, with the journal
    return session.id


# ------------------------------------------------------------- end to end


async def test_image_is_stored_once_and_the_journal_has_no_base64(store, server, http_client, state_dir, work):
    data = png()
    sid = await _session_with_image(store, server, http_client, state_dir, work, data)

    assert wire_images(server.requests[0].json()) == [b64(data)]  # the wire still carries the image
    journal = journal_bytes(store, sid)
    assert b64(data)[:200].encode() not in journal
    assert len(journal) < len(data) // 4  # by size: nothing like the image's bytes is in there
    blob = blob_id_of(data)
    prompt = next(
        json.loads(line)["message"] for line in journal.splitlines()
        if json.loads(line)["type"] == "message" and json.loads(line)["message"]["role"] == "user"
    )
    assert prompt["content"][1] == {"type": "image", "media_type": "image/png", "blob": blob, "bytes": len(data)}
    files = blob_files(store)
    assert len(files) == 1 and files[0].read_bytes() == data
    assert files[0].stat().st_mode & 0o777 == 0o600


async def test_resumed_session_sends_identical_bytes(store, server, http_client, state_dir, work):
    data = png()
    sid = await _session_with_image(store, server, http_client, state_dir, work, data)

    server.enqueue(text("still a cat"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        assert isinstance(session.history[0].content[1], ImageRef)
        await session.run_turn("and now?")
    assert wire_images(server.requests[-1].json()) == [b64(data)]
    assert len(blob_files(store)) == 1


async def test_anthropic_wire_carries_the_stored_image(store, server, http_client, state_dir, work):

    data = png()
    provider = AnthropicProvider(
        name="anthropic", base_url=server.url, api_key="sk-ant-blob-test-1234", api_key_env="ANTHROPIC_API_KEY",
        http_client=http_client, retry=FAST_RETRY,
    )
    server.enqueue(sse_reply(*an_text_message("a cat")), sse_reply(*an_text_message("seen")))
    sid = await _session_with_image(store, server, http_client, state_dir, work, data, provider)
    core = make_core(store, provider, state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        await session.run_turn("again")
    for request in server.requests:  # the first turn, and after the resume
        body = request.json()
        sources = [b["source"] for m in body["messages"] for b in m["content"] if isinstance(b, dict) and b.get("type") == "image"]
        assert sources == [{"type": "base64", "media_type": "image/png", "data": b64(data)}]
    assert b64(data)[:200].encode() not in journal_bytes(store, sid)


async def test_tiny_images_stay_inline(store, server, http_client, state_dir, work):
    data = png(INLINE_IMAGE_MAX_BYTES // 2)
    server.enqueue(text("an icon"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn([TextBlock("icon?"), ImageBlock("image/png", b64(data))])
        assert isinstance(session.history[0].content[1], ImageBlock)
    assert b64(data).encode() in journal_bytes(store, session.id)
    assert blob_files(store) == []


# -------------------------------------------------------------- forks, delete


async def test_forks_share_the_blob_and_delete_keeps_what_others_name(store, server, http_client, state_dir, work):
    data = png()
    sid = await _session_with_image(store, server, http_client, state_dir, work, data)
    fork = store.fork_session(sid)

    blob = blob_id_of(data).encode()
    assert blob in journal_bytes(store, fork)
    assert b64(data)[:200].encode() not in journal_bytes(store, fork)
    assert len(blob_files(store)) == 1  # the bytes exist once

    store.delete(sid)
    assert [p.read_bytes() for p in blob_files(store)] == [data]  # the fork still names it
    server.enqueue(text("the fork sees it"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=fork)) as session:
        await session.run_turn("look again")
    assert wire_images(server.requests[-1].json()) == [b64(data)]

    store.delete(fork)
    assert blob_files(store) == []  # nobody names it any more


async def test_live_fork_shares_the_blob(store, server, http_client, state_dir, work):
    data = png()
    server.enqueue(text("a cat"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn([TextBlock("what is this?"), ImageBlock("image/png", b64(data))])
        fork = store.fork_live(session)
    assert blob_id_of(data).encode() in journal_bytes(store, fork)
    assert b64(data)[:200].encode() not in journal_bytes(store, fork)
    assert len(blob_files(store)) == 1


async def test_sweep_removes_only_unnamed_blobs(store, server, http_client, state_dir, work):
    data = png()
    await _session_with_image(store, server, http_client, state_dir, work, data)
    orphan = store.blobs.write_blob(png(seed=2))  # stored, never journaled (a crash in between)
    assert store.sweep_blobs(min_age_s=3600) == []  # too fresh: a writer may be about to journal it
    assert store.sweep_blobs(min_age_s=0) == [orphan]
    assert [p.read_bytes() for p in blob_files(store)] == [data]


async def test_compaction_leaves_the_blob_for_the_old_records(store, server, http_client, state_dir, work):
    data = png()
    server.enqueue(text("a cat"), text("two turns"), text("summary: the user showed a cat picture"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn([TextBlock("what is this?"), ImageBlock("image/png", b64(data))])
        await session.run_turn("thanks")
        report = await session.compact()
        assert report is not None
        assert not any(isinstance(b, ImageRef) for m in session.history for b in getattr(m, "content", ()))
    stored = store.open_read_only(session.id)
    old = [b for e in stored.transcript for b in getattr(e.message, "content", ()) if isinstance(b, ImageRef)]
    assert len(old) == 1 and old[0].resolve().data == b64(data)  # `show --full` can still show it
    assert [p.read_bytes() for p in blob_files(store)] == [data]


# ------------------------------------------------------- damaged and hostile


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
async def test_damaged_blob_names_session_and_blob_and_the_session_loads(
    damage, store, server, http_client, state_dir, work
):
    data = png()
    sid = await _session_with_image(store, server, http_client, state_dir, work, data)
    (path,) = blob_files(store)
    if damage == "flip":
        raw = bytearray(data)
        raw[100] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "truncate":
        path.write_bytes(data[:1000])
    else:
        path.unlink()

    blob = blob_id_of(data)
    server.enqueue(text("no image here"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        placeholder = session.history[0].content[1]
        assert isinstance(placeholder, TextBlock)
        assert sid in placeholder.text and blob in placeholder.text
        notices = [n.text for n in session.startup_notices]
        assert any(sid in n and blob in n for n in notices), notices
        await session.run_turn("go on")
    body = server.requests[-1].json()
    assert wire_images(body) == []
    assert blob in json.dumps(body)  # the model is told an image was here
    assert store.open_read_only(sid).snapshot.messages[0].content[0] == TextBlock("what is this?")


HOSTILE_IDS = [
    "../../etc/passwd",
    "sha256:../../../../etc/passwd",
    "sha256:" + "a" * 63,
    "sha256:" + "a" * 65,
    "sha256:" + "g" * 64,
    "sha256:" + "A" * 64,
    "sha256:" + "a" * 62 + "/x",
    "/etc/passwd",
    "md5:" + "a" * 32,
    "",
]


@pytest.mark.parametrize("blob_id", HOSTILE_IDS)
def test_hostile_blob_ids_are_refused_before_any_path(tmp_path, blob_id):
    blobs = BlobStore(tmp_path / "blobs")
    with pytest.raises(InvalidBlobId):
        blobs.path_of(blob_id)
    with pytest.raises(InvalidBlobId):
        blobs.read_blob(blob_id)
    with pytest.raises(InvalidBlobId):
        blobs.check_blob(blob_id, 10)
    assert not (tmp_path / "blobs").exists()  # nothing was created or read


@pytest.mark.parametrize("blob_id", HOSTILE_IDS[:4])
async def test_hostile_blob_ids_in_a_journal_load_as_placeholders(store, work, blob_id, server, http_client, state_dir):
    # A readable file where "../../x" from the blob directory would lead.
    planted = store.sessions_dir / "etc"
    planted.mkdir(parents=True)
    (planted / "passwd").write_bytes(png())
    sid = "sess_hostile"
    path = store.sessions_dir / sid
    path.mkdir()
    prompt = {"role": "user", "id": "msg_1", "kind": "prompt", "content": [
        {"type": "text", "text": "look"},
        {"type": "image", "media_type": "image/png", "blob": blob_id, "bytes": IMAGE_BYTES},
    ]}
    writer = JournalWriter.create(path / JOURNAL_FILE)
    try:
        writer.write_many([
            record(RecordType.SESSION, 1.0, id=sid, cwd=str(work), created=1.0, mode="yolo"),
            record(RecordType.MESSAGE, 1.0, turn=None, message=prompt),
        ])
    finally:
        writer.close()

    loaded = store.load(sid).messages[0]
    assert isinstance(loaded.content[1], TextBlock) and "not a blob id" in loaded.content[1].text
    assert store.open_read_only(sid).snapshot.messages[0].content[1] == loaded.content[1]


# ------------------------------------------------------------ compatibility


async def test_old_journal_with_inline_base64_still_loads_and_sends(store, server, http_client, state_dir, work):
    data = png()
    sid = "sess_old_inline"
    path = store.sessions_dir / sid
    path.mkdir(parents=True)
    prompt = UserMessage((TextBlock("what is this?"), ImageBlock("image/png", b64(data))))
    writer = JournalWriter.create(path / JOURNAL_FILE)
    try:
        writer.write_many([
            record(RecordType.SESSION, 1.0, id=sid, cwd=str(work), created=1.0, mode="yolo"),
            message_record(1.0, None, prompt),  # no media store: base64 inline, as before
        ])
    finally:
        writer.close()
    assert b64(data).encode() in journal_bytes(store, sid)

    server.enqueue(text("a cat"))
    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as session:
        assert session.history[0].content[1] == ImageBlock("image/png", b64(data))
        await session.run_turn("and?")
    assert wire_images(server.requests[-1].json()) == [b64(data)]


def test_blob_store_writes_once_atomically_and_verifies(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    data = png()
    blob = blobs.write_blob(data)
    path = blobs.path_of(blob)
    inode = path.stat().st_ino
    assert blobs.write_blob(data) == blob and path.stat().st_ino == inode  # not written again
    assert blobs.read_blob(blob) == data
    blobs.check_blob(blob, len(data))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert list(blobs.ids()) == [blob]

    path.write_bytes(data[:-1] + b"\x00")
    with pytest.raises(BlobCorrupt):
        blobs.read_blob(blob)
    with pytest.raises(BlobCorrupt):
        blobs.check_blob(blob, len(data))
    assert blobs.write_blob(data) == blob and blobs.read_blob(blob) == data  # a damaged copy is replaced
    path.unlink()
    with pytest.raises(BlobMissing):
        blobs.read_blob(blob)
    assert blobs.write_blob(data) == blob and blobs.read_blob(blob) == data  # rewritten


def test_tool_result_images_go_out_of_line(tmp_path):
    from agentcore.history import VecHistory
    from agentcore.messages import ToolResultBlock

    blobs = BlobStore(tmp_path / "blobs")
    data = png()
    history = VecHistory(media=blobs)
    result = ToolResultMessage((ToolResultBlock("call_1", (TextBlock("shot"), ImageBlock("image/png", b64(data)))),))
    history.append(result)
    stored = history[0]
    assert stored.id == result.id
    ref = stored.results[0].content[1]
    assert isinstance(ref, ImageRef) and ref.size == len(data)
    assert ref.resolve() == ImageBlock("image/png", b64(data))
    assert "data" not in json.dumps(message_to_dict(stored))


async def test_read_file_image_goes_to_the_blob_store_and_back_on_the_wire(store, server, http_client, state_dir, work):
    from agentcore.tools.read_file import ReadFileTool
    from store_support import tool_call

    data = png()
    (work / "shot.png").write_bytes(data)
    server.enqueue(tool_call("call_1", "read_file", '{"path": "shot.png"}'), text("a screenshot"))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ReadFileTool()])
    async with core.open_session(info(work)) as session:
        await session.run_turn("read shot.png")
        result = session.history[2]
        assert isinstance(result, ToolResultMessage) and isinstance(result.results[0].content[1], ImageRef)
    assert wire_images(server.requests[1].json()) == [b64(data)]
    journal = journal_bytes(store, session.id)
    assert blob_id_of(data).encode() in journal and b64(data)[:200].encode() not in journal
    assert [p.read_bytes() for p in blob_files(store)] == [data]


async def test_sessions_commands_read_journals_with_blobs(server, http_client, work, tmp_path):
    """`agent sessions list`, `show --full` and `rm` over a session with a stored image."""
    import io

    from agentcore.cli.sessions_cmd import SessionsContext, main
    from agentcore.config.paths import resolve_paths

    env = {"AGENTCORE_HOME": str(tmp_path / "home")}
    paths = resolve_paths(env)
    store = JournalStore(paths.sessions_dir)
    data = png()
    sid = await _session_with_image(store, server, http_client, paths.state_dir, work, data)

    def run(*argv: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, SessionsContext(work, env, out, err, width=200, color=False))
        return code, out.getvalue() + err.getvalue()

    code, out = run("list")
    assert code == 0 and sid in out
    code, out = run("show", sid, "--full")
    assert code == 0 and "what is this?" in out and "a cat" in out
    assert b64(data)[:100] not in out
    code, out = run("rm", sid)
    assert code == 0 and blob_files(store) == []  # its only image went with it


def test_blob_writes_wait_for_the_disk_only_when_the_journal_does(tmp_path: Path) -> None:
    """write_blob (on the event loop, inside history.append) does not fsync; sync()
    — called right before the journal's own fsync at turn end — makes every blob
    written since durable, once."""
    from agentcore.store.blobs import BlobStore

    store = BlobStore(tmp_path / "blobs")
    first, second = store.write_blob(b"a" * 10_000), store.write_blob(b"b" * 10_000)
    assert list(store._unsynced) == [store.path_of(first), store.path_of(second)]
    store.write_blob(b"a" * 10_000)  # already stored: nothing new to sync
    assert len(store._unsynced) == 2
    store.path_of(second).unlink()  # deleted before the turn ended: skipped, not an error
    store.sync()
    assert store._unsynced == {} and store.read_blob(first) == b"a" * 10_000

"""Images out of the records on both backends: stored once as a blob, named by
the records, sent with identical bytes after a resume, and removed with the last
session that names them."""

from __future__ import annotations

import base64
import random

import psycopg
from pg_support import info, make_core, make_provider, text

from agentcore.messages import ImageBlock, ImageRef, TextBlock
from agentcore.store.blobs import blob_id_of

IMAGE_BYTES = 64 * 1024  # well over the inline threshold


def png(size: int = IMAGE_BYTES) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(size - 8)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def wire_images(body: dict) -> list[str]:
    return [
        part["image_url"]["url"].split("base64,", 1)[1]
        for message in body["messages"] if isinstance(message.get("content"), list)
        for part in message["content"] if part.get("type") == "image_url"
    ]  # fmt: skip


async def test_an_image_is_a_blob_sent_again_on_resume_and_deleted_with_its_session(
    open_store, server, http_client, state_dir, work
):
    data = png()
    server.enqueue(text("a cat"), text("still a cat"))
    core = make_core(open_store(), make_provider(server, http_client), state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn([TextBlock("what is this?"), ImageBlock("image/png", b64(data))])
        assert isinstance(session.history[0].content[1], ImageRef)
    sid = session.id

    store = open_store()
    assert store.read_blob(blob_id_of(data)) == data
    if open_store.kind == "postgresql":
        with psycopg.connect(open_store.url) as conn:
            bodies = "".join(r[0] for r in conn.execute("SELECT body FROM agentcore_records"))
        assert b64(data)[:200] not in bodies and blob_id_of(data) in bodies

    core = make_core(store, make_provider(server, http_client), state_dir)
    async with core.open_session(info(work, session_id=sid)) as again:
        assert isinstance(again.history[0].content[1], ImageRef)
        await again.run_turn("and now?")
    assert wire_images(server.requests[-1].json()) == [b64(data)]

    open_store().delete(sid)
    assert list(open_store().blobs.ids()) == []  # only this session named it

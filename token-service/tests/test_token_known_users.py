"""The token endpoint's door: users the database knows, a bounded cache of those confirmed lately."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from token_test_helpers import Rows, make_settings

from token_service.db import Pool, create_pool
from token_service.errors import ApiError
from token_service.users.known import KnownUsers
from training_contracts import ApiErrorCode


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = create_pool(make_settings(database_url, db_pool_min=0, db_pool_timeout_s=2))
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


async def _refused(users: KnownUsers, user_id: object) -> ApiErrorCode:
    with pytest.raises(ApiError) as refused:
        await users.require(user_id)  # type: ignore[arg-type]
    return refused.value.code


async def test_known_user_passes_and_unknown_is_401(pool: Pool, rows: Rows) -> None:
    users = KnownUsers(pool)
    await users.require(await rows.user())
    assert await _refused(users, uuid4()) is ApiErrorCode.UNAUTHORIZED
    assert len(users) == 1  # unknown ids are not remembered


async def test_a_confirmed_user_needs_no_query(pool: Pool, rows: Rows) -> None:
    users = KnownUsers(pool)
    user_id = await rows.user()
    await users.require(user_id)
    await pool.close()  # any query would now fail
    await users.require(user_id)


async def test_a_new_user_is_known_at_once(pool: Pool, rows: Rows) -> None:
    users = KnownUsers(pool)
    user_id = uuid4()
    assert await _refused(users, user_id) is ApiErrorCode.UNAUTHORIZED
    await rows.conn.execute(
        "INSERT INTO public.users (id, external_id, updated_at)"
        " VALUES (%s, 'late', now() AT TIME ZONE 'UTC')",
        (user_id,),
    )
    await users.require(user_id)


async def test_a_deleted_user_is_refused_once_the_confirmation_is_older_than_the_ttl(
    pool: Pool, rows: Rows
) -> None:
    now = [100.0]
    users = KnownUsers(pool, ttl_s=60.0, clock=lambda: now[0])
    user_id = await rows.user()
    await users.require(user_id)
    await rows.conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
    now[0] += 59.0
    await users.require(user_id)  # still within the ttl: the cache answers
    now[0] += 1.0  # the ttl is up
    assert await _refused(users, user_id) is ApiErrorCode.UNAUTHORIZED
    assert len(users) == 0


async def test_the_cache_is_bounded_least_recently_confirmed_first(pool: Pool, rows: Rows) -> None:
    users = KnownUsers(pool, capacity=2)
    first, second, third = [await rows.user() for _ in range(3)]
    for user_id in (first, second, third):
        await users.require(user_id)
    assert len(users) == 2
    await rows.conn.execute("DELETE FROM users WHERE id = %s", (first,))
    assert await _refused(users, first) is ApiErrorCode.UNAUTHORIZED  # evicted: asked again

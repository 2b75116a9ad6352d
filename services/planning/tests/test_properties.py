"""Property tests (hypothesis) of what callers may send: whatever a declaration's fields or a token's
claims hold, only the contract's exc_types come back — never a crash (``INTERNAL_ERROR``) — and a
refused call leaves every table of planning's database as it was."""

import datetime as dt
import time

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import OKPAlgorithm
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, func, inspect, select, table

from nxshared.core.errors import CONTRACT_ERRORS, Forbidden, Unauthorized
from nxshared.testing import TEST_KEY, bearer
from planning.service import PlanningService

from .factories import declaration

FIELDS = list(declaration())
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.sampled_from(
        ["", " ", "unit:edu\n", "UNIT:EDU", "1e3", "-0", "1_000", " 1.00", "9" * 30, "x" * 6000, "2027", "annual"]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def planning(container_factory, service_config):
    # no relay: no event of an earlier example reaches the timeline while a later one is checked
    config = service_config("planning", TODAY="2026-12-15", OUTBOX_RELAY_ENABLED=False)
    container = container_factory(PlanningService, config)
    container.start()
    return container


def row_counts(config):
    engine = create_engine(config["DATABASE_URL"])
    try:
        names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
        with engine.connect() as conn:
            return {n: conn.execute(select(func.count()).select_from(table(n))).scalar() for n in names}
    finally:
        engine.dispose()


def declare(container, authorization, project):
    with entrypoint_hook(container, "declare_project", context_data={"authorization": authorization}) as hook:
        return hook(project=project)


def check_refused_cleanly(container, authorization, project):
    before = row_counts(container.config)
    try:
        created = declare(container, authorization, project)
    except CONTRACT_ERRORS as exc:
        assert exc.code != "INTERNAL_ERROR", f"a crash answered as INTERNAL_ERROR: {exc}"
        assert row_counts(container.config) == before, f"refused ({exc.code}) but the tables changed"
        return exc
    assert created["status"] == "declared"
    return None


@PROPERTY
@given(changes=st.dictionaries(st.sampled_from(FIELDS), JSONISH, min_size=1, max_size=4))
def test_any_declaration_is_taken_or_refused_with_a_contract_error_and_nothing_stored(planning, changes):
    check_refused_cleanly(planning, bearer("unit:edu"), declaration(**changes))


@PROPERTY
@given(project=JSONISH)
def test_any_project_argument_is_refused_as_a_validation_error_when_not_an_object(planning, project):
    check_refused_cleanly(planning, bearer("unit:edu"), project)


CLAIM = st.one_of(JSONISH, st.sampled_from(["unit:edu", "drc", "x" * 10_000, "unit:edu ", ["unit:edu"]]))


@PROPERTY
@given(
    claims=st.fixed_dictionaries(
        {}, optional={"sub": CLAIM, "org": CLAIM, "exp": st.one_of(CLAIM, st.just(int(time.time()) + 600))}
    ),
    algorithm=st.sampled_from(["EdDSA", "HS256", "HS384", "none"]),
)
def test_any_token_claims_are_a_caller_or_unauthorized_and_nothing_stored(planning, claims, algorithm):
    """Only the trusted issuer's signature (EdDSA, its kid) makes a caller; an HMAC, even one keyed
    with the issuer's own public key bytes (algorithm confusion), or no signature never does."""
    key = {
        "EdDSA": OKPAlgorithm.from_jwk(TEST_KEY),
        "none": None,
    }.get(algorithm, TEST_KEY["x"].encode())
    try:
        token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": TEST_KEY["kid"]})
    except (TypeError, ValueError, jwt.PyJWTError):
        return  # not even encodable: no caller can send it either
    refused = check_refused_cleanly(planning, "Bearer " + token, declaration())
    valid = (
        algorithm == "EdDSA"
        and claims.get("org") == "unit:edu"
        and isinstance(claims.get("sub"), str)
        and 0 < len(claims["sub"].strip()) <= 128
        and claims["sub"].isprintable()
        and isinstance(claims.get("exp"), int | float)
        and not isinstance(claims.get("exp"), bool)
        and dt.datetime.now(dt.UTC).timestamp() + 5 < claims["exp"] < 10**10
    )
    if valid:
        assert refused is None
    elif refused is not None:
        # a sound token of another org may not declare for unit:edu; anything else is Unauthorized
        assert isinstance(refused, Unauthorized | Forbidden), refused

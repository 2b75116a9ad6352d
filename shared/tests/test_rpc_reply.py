"""The reply of every ``@rpc`` (``SettlingRpcConsumer.handle_result``) over a real broker: a
result, an error, and a result that cannot be serialized, as nameko's own responder answers them."""

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from nxshared.entrypoints import SecuredRpc


class Replying:
    name = "replying"

    @SecuredRpc.decorator
    def result(self, value):
        return {"value": value, "text": "通过"}

    @SecuredRpc.decorator
    def failure(self):
        raise ValueError("refused")

    @SecuredRpc.decorator
    def unserializable(self):
        return {"when": object()}


@pytest.fixture
def replying(container_factory, rabbit_config):
    container = container_factory(Replying, rabbit_config)
    container.start()
    with ClusterRpcProxy(rabbit_config, timeout=10) as proxy:
        yield proxy.replying


def test_a_result_comes_back_as_the_caller_sent_its_request(replying):
    assert replying.result(value=[1, "二"]) == {"value": [1, "二"], "text": "通过"}
    assert [replying.result(value=i)["value"] for i in range(20)] == list(range(20))  # each its own reply


def test_an_error_comes_back_as_a_remote_error(replying):
    with pytest.raises(RemoteError) as err:
        replying.failure()
    assert (err.value.exc_type, err.value.value) == ("ValueError", "refused")


def test_a_result_that_cannot_be_serialized_is_answered_as_such(replying):
    with pytest.raises(RemoteError) as err:
        replying.unserializable()
    assert err.value.exc_type == "UnserializableValueError"
    assert replying.result(value=1)["value"] == 1  # and the service goes on

"""RPC calls from outside the services (``nx``, its demo, the fault suite) that ride out a reconnect.

A read (``get_…``, ``list_…``) changes nothing, so when its connection fails, or its reply is lost
with a dropped connection (it then times out), it is asked again on a fresh connection until
``retry_for`` seconds have passed. Any other call is sent at most once: when the connection fails
after the request may have left, nobody knows whether it was applied, so it is not repeated blindly;
the caller gets ``BrokerUnavailable`` saying so. Opening the connection is always retried (nothing
has been sent yet). A refusal from the service (``RemoteError``) is an answer and is never retried.
"""

import contextlib
import time
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

READ_PREFIXES = ("get_", "list_")
LINK_ERRORS = (OSError, AmqpConnectionError, OperationalError)


def is_read(method: str) -> bool:
    return method.startswith(READ_PREFIXES)


def broker_host(amqp_uri: str) -> str:
    return amqp_uri.rsplit("@", 1)[-1]


class BrokerUnavailable(Exception):
    """A call that could not be made or finished because the broker connection failed: one line in
    Chinese and English for an operator, never a stack trace."""

    def __init__(self, amqp_uri: str, method: str, detail: object, maybe_applied: bool = False):
        host = broker_host(amqp_uri)
        if maybe_applied:
            text = (
                f"与消息代理 {host} 的连接在调用 {method} 时中断，该操作可能已执行，请先查询再决定是否重试"
                f" / the broker connection ({host}) dropped during {method}: it may or may not have been"
                f" applied; check before repeating it ({detail})"
            )
        else:
            text = (
                f"无法连接消息代理 {host}，请确认 RabbitMQ 正在运行（make broker）"
                f" / cannot reach the broker at {host}: is RabbitMQ running? ({detail})"
            )
        super().__init__(text)
        self.maybe_applied = maybe_applied


class ResilientRpc:
    """RPC calls with fixed ``context_data`` (the caller's token) over one connection, opened lazily
    and reopened after it failed."""

    def __init__(
        self,
        amqp_uri: str,
        context_data: dict,
        timeout: float = 30,
        retry_for: float = 30,
        rpc_exchange: str = "nameko-rpc",
    ):
        self.amqp_uri = amqp_uri
        self.rpc_exchange = rpc_exchange
        self.context_data = context_data
        self.timeout = timeout
        self.retry_for = retry_for
        self._proxy: ClusterRpcProxy | None = None
        self._cluster: Any = None

    def call(self, service: str, method: str, **kwargs):
        deadline = time.monotonic() + self.retry_for
        pause = 0.2
        while True:
            try:
                cluster = self._connect()
            except LINK_ERRORS as exc:  # nothing sent: retrying is safe for any call
                self._drop()
                if time.monotonic() + pause > deadline:
                    raise BrokerUnavailable(self.amqp_uri, method, exc) from None
            else:
                try:
                    return getattr(getattr(cluster, service), method)(**kwargs)
                except (*LINK_ERRORS, RpcTimeout) as exc:
                    self._drop()
                    if not is_read(method):
                        if isinstance(exc, RpcTimeout):
                            raise
                        raise BrokerUnavailable(self.amqp_uri, method, exc, maybe_applied=True) from None
                    if time.monotonic() + pause > deadline:
                        raise BrokerUnavailable(self.amqp_uri, method, exc) from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _connect(self):
        if self._cluster is None:
            config = {"AMQP_URI": self.amqp_uri, "rpc_exchange": self.rpc_exchange}
            proxy = ClusterRpcProxy(config, context_data=self.context_data, timeout=self.timeout)
            self._cluster = proxy.start()
            self._proxy = proxy
        return self._cluster

    def _drop(self):
        proxy, self._proxy, self._cluster = self._proxy, None, None
        if proxy is not None:
            with contextlib.suppress(Exception):  # the connection is already broken; closing may fail
                proxy.stop()

    def close(self):
        self._drop()

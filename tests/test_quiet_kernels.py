"""A finished run shuts its kernel down without SIGINT, so no stray KeyboardInterrupt on stderr."""

from __future__ import annotations

import asyncio
import signal

from icp_helpers.reports.runner import _kernel_manager_class


def test_shutdown_sends_no_interrupt_but_an_explicit_interrupt_still_works():
    sent: list[int] = []

    async def scenario() -> None:
        manager = _kernel_manager_class()()
        original = manager._async_signal_kernel

        async def record(signum):
            sent.append(signum)
            await original(signum)

        manager._async_signal_kernel = record
        await manager.start_kernel()
        try:
            await manager.interrupt_kernel()  # what a user's "interrupt" does
            assert sent == [signal.SIGINT]
        finally:
            await manager.shutdown_kernel()
        assert not await manager.is_alive()

    asyncio.run(scenario())
    # jupyter_client's own shutdown would have added a second SIGINT here
    assert sent == [signal.SIGINT]

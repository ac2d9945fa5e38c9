"""The official MCP Python SDK (`mcp` 2.3.0, `mode="auto"`: it probes with `server/discover` and
so speaks the 2026-07-28 era) against the worker's `/mcp`: lists the tools, calls each one and
prints one JSON object on stdout for `tests/e2e/mcp.rs` to compare with the API's own answers.

Environment: TRIBUTARY_MCP_URL (the worker's /mcp), TRIBUTARY_TOKEN (a session JWT).
"""

import asyncio
import json
import os

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    url = os.environ["TRIBUTARY_MCP_URL"]
    headers = {"Authorization": f"Bearer {os.environ['TRIBUTARY_TOKEN']}"}
    timeout = httpx2.Timeout(30.0, read=60.0)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout, follow_redirects=True) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto") as client:
            tools = (await client.list_tools()).tools

            async def call(name: str, arguments: dict) -> dict:
                result = await client.call_tool(name, arguments)
                texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
                return {"isError": bool(result.is_error), "structuredContent": result.structured_content, "text": texts}

            output = {
                "protocolVersion": client.protocol_version,
                "tools": [tool.name for tool in tools],
                "calls": {
                    "consolidated": await call("get_positions", {"format": "consolidated"}),
                    "list_connections": await call("list_connections", {}),
                    "connection_health": await call("connection_health", {}),
                    "get_transactions": await call("get_transactions", {}),
                    "bad_from": await call("get_transactions", {"from": "yesterday"}),
                    "preview_trade": await call(
                        "preview_trade",
                        {
                            "account_id": os.environ["TRIBUTARY_ACCOUNT"],
                            "ticker": "AAPL",
                            "side": "BUY",
                            "quantity": 1,
                            "order_type": "Limit",
                            "limit_price": "180.50",
                        },
                    ),
                    "bad_trade": await call("preview_trade", {"account_id": os.environ["TRIBUTARY_ACCOUNT"], "ticker": "AAPL", "side": "BUY"}),
                },
            }
            preview = output["calls"]["preview_trade"]["structuredContent"] or {}
            output["calls"]["place_order"] = await call(
                "place_order",
                {"preview_id": preview.get("preview_id", "none"), "idempotency_key": os.environ["TRIBUTARY_KEY"]},
            )
    print(json.dumps(output))


asyncio.run(main())

// The official MCP TypeScript SDK (v1, legacy era: initialize, then stateless POSTs) against the
// worker's `/mcp`: connects with the session token, lists the tools, calls each one and prints
// one JSON object on stdout for `tests/e2e/mcp.rs` to compare with the API's own answers.
//
// Environment: TRIBUTARY_MCP_URL (the worker's /mcp), TRIBUTARY_TOKEN (a session JWT).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.env.TRIBUTARY_MCP_URL);
const token = process.env.TRIBUTARY_TOKEN;
const client = new Client({ name: "tributary-e2e", version: "0.0.1" });
const transport = new StreamableHTTPClientTransport(url, {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
await client.connect(transport);

const { tools } = await client.listTools();
const call = async (name, args) => {
  const result = await client.callTool({ name, arguments: args });
  return { isError: result.isError ?? false, structuredContent: result.structuredContent, content: result.content };
};
const output = {
  protocolVersion: transport.protocolVersion ?? null,
  serverVersion: client.getServerVersion(),
  tools,
  calls: {
    consolidated: await call("get_positions", { format: "consolidated" }),
    by_account: await call("get_positions", { format: "by_account" }),
    list_connections: await call("list_connections", {}),
    connection_health: await call("connection_health", { probe_trading: false }),
    get_transactions: await call("get_transactions", {}),
    bad_format: await call("get_positions", { format: "flat" }),
    preview_trade: await call("preview_trade", {
      account_id: process.env.TRIBUTARY_ACCOUNT, ticker: "AAPL", side: "BUY", quantity: "1",
      order_type: "Limit", limit_price: "180.50",
    }),
    bad_trade: await call("preview_trade", { account_id: process.env.TRIBUTARY_ACCOUNT, ticker: "AAPL", side: "BUY" }),
  },
};
output.calls.place_order = await call("place_order", {
  preview_id: output.calls.preview_trade.structuredContent?.preview_id ?? "none",
  idempotency_key: process.env.TRIBUTARY_KEY,
});
await client.close();
process.stdout.write(JSON.stringify(output));

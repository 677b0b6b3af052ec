-- Security webhooks (docs/api.md#security-webhooks): the endpoints staff register, and the outbox of
-- deliveries, one row per message and endpoint.

-- An endpoint. `events` lists the event types it receives as `,type,type,` (so that one `LIKE`
-- finds the subscribers of a type, on both databases); `secret` is the signing secret sealed by the
-- vault (LATCHKEY_ENCRYPTION_KEY): shown once when created, needed again to sign every delivery.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The outbox: written in the transaction that records the audit event (so an event is never
-- recorded without its deliveries, nor delivered without being recorded), sent by any node.
-- `message_id` is the `webhook-id` every attempt repeats (one message sent to two endpoints has the
-- same id at both, as Standard Webhooks has it); `payload` the exact body signed.
-- `state` is `pending` (waiting for `next_attempt_at`), `delivered` or `failed` (out of attempts).
-- A node claims a row by setting `lease_until` (another node skips it until then); `last_status` is
-- the receiver's HTTP status, `last_error` a short fixed phrase (never the receiver's own text).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

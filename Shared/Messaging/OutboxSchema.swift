import ECGDatabase

/// The tables the messaging library keeps in a service's own schema. Their versions (900+) are
/// reserved for shared tables, so they never collide with a service's own numbered migrations.
package enum MessagingMigrations {
    package static let all: [Migration] = [
        Migration(
            version: 900,
            name: "outbox",
            sql: """
                CREATE TABLE outbox (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    topic text NOT NULL,
                    key text NOT NULL,
                    payload bytea NOT NULL,
                    headers jsonb NOT NULL DEFAULT '[]',
                    created_at timestamptz NOT NULL DEFAULT now(),
                    published_at timestamptz,
                    attempts integer NOT NULL DEFAULT 0,
                    last_error text
                );
                -- The relay reads the oldest pending row of each key.
                CREATE INDEX outbox_pending_key_idx ON outbox (key, id) WHERE published_at IS NULL;
                CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
                """
        ),
        Migration(
            version: 901,
            name: "processed_events",
            sql: """
                CREATE TABLE processed_events (
                    event_id text PRIMARY KEY,
                    topic text NOT NULL,
                    processed_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);
                """
        ),
    ]
}

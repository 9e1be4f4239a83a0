import GRDB

extension SQLiteStore {
    /// Numbered, append-only migrations: never edit one that has shipped; add the next.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-initial") { db in
            try db.execute(
                sql: """
                    CREATE TABLE mailbox (
                      id INTEGER PRIMARY KEY,
                      name TEXT NOT NULL UNIQUE,
                      from_name TEXT,
                      from_address TEXT NOT NULL,
                      transport TEXT NOT NULL,
                      state TEXT NOT NULL DEFAULT 'connected' CHECK (state IN ('connected', 'disconnected')),
                      state_detail TEXT,
                      state_changed_at INTEGER,
                      created_at INTEGER NOT NULL
                    );
                    CREATE TABLE sequence (
                      id INTEGER PRIMARY KEY,
                      name TEXT NOT NULL UNIQUE,
                      mailbox_id INTEGER NOT NULL REFERENCES mailbox(id),
                      created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE step (
                      sequence_id INTEGER NOT NULL REFERENCES sequence(id),
                      position INTEGER NOT NULL,
                      wait_seconds INTEGER NOT NULL,
                      subject TEXT NOT NULL,
                      body TEXT NOT NULL,
                      PRIMARY KEY (sequence_id, position)
                    );
                    CREATE TABLE influencer (
                      id INTEGER PRIMARY KEY,
                      email TEXT NOT NULL UNIQUE,
                      name TEXT,
                      first_name TEXT,
                      last_name TEXT,
                      handle TEXT,
                      platform TEXT,
                      followers INTEGER,
                      attributes TEXT NOT NULL DEFAULT '{}',
                      created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE enrollment (
                      id INTEGER PRIMARY KEY,
                      influencer_id INTEGER NOT NULL REFERENCES influencer(id),
                      sequence_id INTEGER NOT NULL REFERENCES sequence(id),
                      token TEXT NOT NULL UNIQUE,
                      status TEXT NOT NULL,
                      reason TEXT,
                      detail TEXT,
                      steps_sent INTEGER NOT NULL DEFAULT 0,
                      enrolled_at INTEGER NOT NULL,
                      last_sent_at INTEGER,
                      next_send_at INTEGER,
                      retry_after INTEGER,
                      status_changed_at INTEGER,
                      updated_at INTEGER NOT NULL
                    );
                    -- At most one running enrollment per influencer and sequence. Error ones are
                    -- checked in code: a late bounce may move an old completed enrollment to Error
                    -- after a new one has started.
                    CREATE UNIQUE INDEX enrollment_running ON enrollment(influencer_id, sequence_id)
                      WHERE status IN ('scheduled', 'in_progress');
                    CREATE INDEX enrollment_due ON enrollment(next_send_at, id) WHERE next_send_at IS NOT NULL;
                    CREATE INDEX enrollment_sequence ON enrollment(sequence_id, status);
                    CREATE INDEX enrollment_influencer ON enrollment(influencer_id);
                    CREATE TABLE message (
                      id INTEGER PRIMARY KEY,
                      enrollment_id INTEGER NOT NULL REFERENCES enrollment(id),
                      step INTEGER NOT NULL,
                      message_id TEXT NOT NULL UNIQUE,
                      recipient TEXT NOT NULL,
                      mailbox_id INTEGER NOT NULL REFERENCES mailbox(id),
                      state TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'bounced')),
                      claimed_at INTEGER NOT NULL,
                      sent_at INTEGER,
                      provider_message_id TEXT,
                      -- A step is never sent twice.
                      UNIQUE (enrollment_id, step)
                    );
                    CREATE INDEX message_provider ON message(provider_message_id)
                      WHERE provider_message_id IS NOT NULL;
                    CREATE INDEX message_recipient ON message(recipient, mailbox_id);
                    CREATE INDEX message_claimed ON message(enrollment_id) WHERE state = 'claimed';
                    CREATE TABLE event (
                      id INTEGER PRIMARY KEY,
                      enrollment_id INTEGER REFERENCES enrollment(id),
                      key TEXT NOT NULL UNIQUE,
                      type TEXT NOT NULL,
                      occurred_at INTEGER NOT NULL,
                      recorded_at INTEGER NOT NULL,
                      source TEXT NOT NULL,
                      message_id TEXT,
                      step INTEGER,
                      steps_total INTEGER,
                      bounce_class TEXT,
                      detail TEXT,
                      raw TEXT,
                      -- How a reported event was matched: message_id, token, provider_id, recipient (weak).
                      match TEXT,
                      recipient TEXT,
                      malformed TEXT
                    );
                    CREATE INDEX event_enrollment ON event(enrollment_id, occurred_at);
                    -- What an unmatched event may match later: mid:<Message-ID>, tok:<token>, pid:<provider id>.
                    CREATE TABLE unmatched_hint (
                      hint TEXT NOT NULL,
                      event_id INTEGER NOT NULL REFERENCES event(id),
                      PRIMARY KEY (hint, event_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX unmatched_hint_event ON unmatched_hint(event_id);
                    CREATE TABLE suppression (
                      email TEXT PRIMARY KEY,
                      reason TEXT NOT NULL,
                      detail TEXT,
                      created_at INTEGER NOT NULL
                    );
                    """)
        }
        // Real sending: mailbox health (since when its server has been failing, and for how
        // long that is tolerated), unsubscribe addresses, sending limits, and HTML step bodies.
        migrator.registerMigration("0002-smtp-sending") { db in
            try db.execute(
                sql: """
                    ALTER TABLE mailbox ADD COLUMN failing_since INTEGER;
                    ALTER TABLE mailbox ADD COLUMN failing_detail TEXT;
                    ALTER TABLE mailbox ADD COLUMN failure_grace_seconds INTEGER NOT NULL DEFAULT 3600;
                    ALTER TABLE mailbox ADD COLUMN unsubscribe_url TEXT;
                    ALTER TABLE mailbox ADD COLUMN unsubscribe_mailto TEXT;
                    ALTER TABLE mailbox ADD COLUMN daily_cap INTEGER;
                    ALTER TABLE mailbox ADD COLUMN min_spacing_seconds INTEGER;
                    ALTER TABLE mailbox ADD COLUMN send_window TEXT;
                    ALTER TABLE mailbox ADD COLUMN time_zone TEXT;
                    ALTER TABLE step ADD COLUMN html TEXT;
                    -- Why a due step waits (a sending limit), shown by `show`.
                    ALTER TABLE enrollment ADD COLUMN wait_reason TEXT;
                    CREATE INDEX message_mailbox_claimed ON message(mailbox_id, claimed_at);
                    """)
        }
        migrator.registerMigration("0003-events-by-type") { db in
            // A status refresh reads an enrollment's status-changing events; with the
            // type in the index, the opens and clicks beside them are never fetched.
            try db.execute(
                sql: """
                    DROP INDEX event_enrollment;
                    CREATE INDEX event_enrollment_type ON event(enrollment_id, type);
                    """)
        }
        migrator.registerMigration("0004-events-filed-in-batches") { db in
            // Only the events that can change a status go into an index by enrollment
            // as they are written: a refresh needs them at once. The others (opens,
            // deliveries, ...), most of what providers report, are filed by enrollment
            // later, many thousands at a time in sorted order (`event_filed`), instead
            // of one index page written at random for each. `show` reads the events
            // written since the last filing (above `filed_through`) from the table.
            try db.execute(
                sql: """
                    DROP INDEX event_enrollment_type;
                    -- The key of the event that made the last status change: with it, a refresh
                    -- can tell that a new event changes nothing without reading the others.
                    ALTER TABLE enrollment ADD COLUMN status_event_key TEXT;
                    CREATE INDEX event_status ON event(enrollment_id) WHERE \(Self.statusEventCondition0004);
                    -- The events that matched nothing yet, for `events retry`.
                    CREATE INDEX event_unmatched ON event(id) WHERE enrollment_id IS NULL;
                    CREATE TABLE event_filed (
                      enrollment_id INTEGER NOT NULL,
                      event_id INTEGER NOT NULL,
                      PRIMARY KEY (enrollment_id, event_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE event_filing (
                      id INTEGER PRIMARY KEY CHECK (id = 1),
                      filed_through INTEGER NOT NULL
                    );
                    INSERT INTO event_filed (enrollment_id, event_id)
                      SELECT enrollment_id, id FROM event
                      WHERE enrollment_id IS NOT NULL AND NOT \(Self.statusEventCondition0004)
                      ORDER BY enrollment_id, id;
                    INSERT INTO event_filing (id, filed_through) VALUES (1, coalesce((SELECT max(id) FROM event), 0));
                    """)
        }
        return migrator
    }

    /// The `event_status` index's condition as migration 0004 wrote it; queries
    /// use it as ``statusEventCondition`` while no later migration rebuilds the index.
    static let statusEventCondition0004 =
        "(type = 'enrolled' OR type = 'step_sent' OR type = 'unenrolled' OR type = 'mailbox_disconnected' "
        + "OR type = 'bounced' OR type = 'rejected' OR type = 'failed' OR type = 'complained' OR type = 'unsubscribed' "
        + "OR type = 'replied')"
}

"""Full-text search over conversation titles and message text.

SQLite: two FTS5 tables kept in step by triggers (messages as an external-content table on chat_message,
titles in their own table keyed by conversation id). PostgreSQL needs nothing stored: chat/search.py uses
to_tsvector/websearch_to_tsquery at query time. Other databases fall back to substring matching.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE chat_message_fts USING fts5(text, content='chat_message', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN"
    " INSERT INTO chat_message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN"
    " INSERT INTO chat_message_fts(chat_message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF text ON chat_message BEGIN"
    " INSERT INTO chat_message_fts(chat_message_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO chat_message_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO chat_message_fts(rowid, text) SELECT id, text FROM chat_message",
    "CREATE VIRTUAL TABLE chat_conversation_fts USING fts5(conversation_id UNINDEXED, title,"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chat_conversation_fts_insert AFTER INSERT ON chat_conversation BEGIN"
    " INSERT INTO chat_conversation_fts(conversation_id, title) VALUES (new.id, new.title); END",
    "CREATE TRIGGER chat_conversation_fts_delete AFTER DELETE ON chat_conversation BEGIN"
    " DELETE FROM chat_conversation_fts WHERE conversation_id = old.id; END",
    "CREATE TRIGGER chat_conversation_fts_update AFTER UPDATE OF title ON chat_conversation BEGIN"
    " UPDATE chat_conversation_fts SET title = new.title WHERE conversation_id = old.id; END",
    "INSERT INTO chat_conversation_fts(conversation_id, title) SELECT id, title FROM chat_conversation",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS chat_message_fts_insert",
    "DROP TRIGGER IF EXISTS chat_message_fts_delete",
    "DROP TRIGGER IF EXISTS chat_message_fts_update",
    "DROP TABLE IF EXISTS chat_message_fts",
    "DROP TRIGGER IF EXISTS chat_conversation_fts_insert",
    "DROP TRIGGER IF EXISTS chat_conversation_fts_delete",
    "DROP TRIGGER IF EXISTS chat_conversation_fts_update",
    "DROP TABLE IF EXISTS chat_conversation_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_run_heartbeat")]

    operations = [migrations.RunPython(_run(SQLITE_FORWARD), _run(SQLITE_BACKWARD))]

"""Each claim's API document, stored and kept current by triggers; PostgreSQL only.

Building a claim's JSON touches a dozen tables (claims.documents.CLAIM_JSON): at a million
claims a page of 50 took ~25 ms of SQL, half a search request. Reads far outnumber
writes, so each claim's document is now written when something it shows changes, in the
same statement, and a page reads 50 stored rows.

What a document shows, and the trigger that rewrites it on a change:
- the claim itself, its people and topics: claims_claim, claims_claim_people,
  claims_claim_topics, claims_topic;
- its citations, their sources and the sources' publishers: claims_citation,
  sources_source, sources_person (also claimants and people);
- each cited source's upstream provenance chain: sources_provenance, and every source and
  publisher up the chain (claimtrail_claims_citing walks the chain down from a change).
Triggers run once per statement, with transition tables, so a bulk write refreshes each
claim once. SQLite keeps the table empty and builds documents on each read.
"""

from django.db import migrations, models


# The SQL as it stood when this migration was written (migrations never import
# application code: claims.documents has since changed, and migration 0009 removes all this).
REFRESH_FUNCTION = (
    'CREATE OR REPLACE FUNCTION claimtrail_refresh_documents(claim_ids bigint[]) RETURNS void '
    'LANGUAGE sql AS $body$ INSERT INTO claims_storeddocument (claim_id, body) SELECT c.id, '
    "json_build_object('id', c.id, 'text', c.text, 'summary', c.summary, 'claimant', CASE WHEN "
    "cl.id IS NULL THEN NULL ELSE json_build_object('id', cl.id, 'name', cl.name, 'kind', "
    "cl.kind, 'description', cl.description) END"
    ", 'people', COALESCE((SELECT json_agg(json_build_object('id', pp.id, 'name', pp.name, "
    "'kind', pp.kind, 'description', pp.description) ORDER BY pp.name, pp.id) FROM "
    'claims_claim_people cp JOIN sources_person pp ON pp.id = cp.person_id WHERE cp.claim_id = '
    "c.id), '[]')"
    ", 'topics', COALESCE((SELECT json_agg(json_build_object('slug', t.slug, 'name', t.name) "
    'ORDER BY t.name) FROM claims_claim_topics ct JOIN claims_topic t ON t.id = ct.topic_id '
    "WHERE ct.claim_id = c.id), '[]')"
    ", 'made', json_build_object('text', c.made_text, 'edtf', c.made_edtf, 'earliest', "
    "c.made_earliest, 'latest', c.made_latest)"
    ", 'event', json_build_object('text', c.event_text, 'edtf', c.event_edtf, 'earliest', "
    "c.event_earliest, 'latest', c.event_latest)"
    ", 'rating', c.rating, 'rating_rationale', c.rating_rationale, 'state', c.state"
    ", 'language', c.language"
    ", 'created_at', CASE WHEN date_part('microseconds', c.created_at)::bigint % 1000000 = 0 "
    'THEN to_char(c.created_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE '
    'to_char(c.created_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END'
    ", 'updated_at', CASE WHEN date_part('microseconds', c.updated_at)::bigint % 1000000 = 0 "
    'THEN to_char(c.updated_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE '
    'to_char(c.updated_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END'
    ", 'citations', COALESCE((SELECT json_agg(json_build_object('id', ci.id, 'role', ci.role, "
    "'quote', ci.quote, 'locator', ci.locator, 'reliability_note', ci.reliability_note, "
    "'accessed_on', ci.accessed_on"
    ", 'source', json_build_object('id', s.id, 'kind', s.kind, 'title', s.title, 'url', s.url, "
    "'archive_url', s.archive_url, 'published', json_build_object('text', s.published_text, "
    "'edtf', s.published_edtf, 'earliest', s.published_earliest, 'latest', s.published_latest),"
    " 'is_primary', s.is_primary"
    ", 'publisher', CASE WHEN sp.id IS NULL THEN NULL ELSE json_build_object('id', sp.id, "
    "'name', sp.name, 'reliability', sp.reliability, 'reliability_note', sp.reliability_note, "
    "'reliability_reviewed_on', sp.reliability_reviewed_on) END"
    ", 'effective_reliability', COALESCE(NULLIF(s.reliability, ''), sp.reliability, 'unrated')"
    ", 'based_on', COALESCE((SELECT json_agg(l.based_on_id ORDER BY l.based_on_id) FROM "
    "sources_provenance l WHERE l.source_id = s.id), '[]')"
    ", 'language', s.language, 'reliability', s.reliability, 'reliability_note', "
    's.reliability_note'
    ", 'provenance', COALESCE((WITH RECURSIVE chain(id, depth) AS ( SELECT based_on_id, 1 FROM "
    'sources_provenance WHERE source_id = s.id UNION SELECT l.based_on_id, chain.depth + 1 FROM'
    ' sources_provenance l JOIN chain ON l.source_id = chain.id WHERE chain.depth < 50) SELECT '
    "json_agg(json_build_object('id', u.id, 'kind', u.kind, 'title', u.title, 'url', u.url, "
    "'archive_url', u.archive_url, 'published', json_build_object('text', u.published_text, "
    "'edtf', u.published_edtf, 'earliest', u.published_earliest, 'latest', u.published_latest),"
    " 'is_primary', u.is_primary"
    ", 'publisher', CASE WHEN up.id IS NULL THEN NULL ELSE json_build_object('id', up.id, "
    "'name', up.name, 'reliability', up.reliability, 'reliability_note', up.reliability_note, "
    "'reliability_reviewed_on', up.reliability_reviewed_on) END"
    ", 'effective_reliability', COALESCE(NULLIF(u.reliability, ''), up.reliability, 'unrated')"
    ", 'based_on', COALESCE((SELECT json_agg(l.based_on_id ORDER BY l.based_on_id) FROM "
    "sources_provenance l WHERE l.source_id = u.id), '[]')) ORDER BY nearest.depth, u.id) FROM "
    '(SELECT id, min(depth) AS depth FROM chain GROUP BY id) nearest JOIN sources_source u ON '
    "u.id = nearest.id LEFT JOIN sources_person up ON up.id = u.publisher_id), '[]'))) ORDER BY"
    ' ci.id) FROM claims_citation ci JOIN sources_source s ON s.id = ci.source_id LEFT JOIN '
    "sources_person sp ON sp.id = s.publisher_id WHERE ci.claim_id = c.id), '[]'))::text AS "
    'body FROM claims_claim c LEFT JOIN sources_person cl ON cl.id = c.claimant_id WHERE c.id ='
    ' ANY(claim_ids) ON CONFLICT (claim_id) DO UPDATE SET body = EXCLUDED.body $body$'
)
REBUILD_DOCUMENTS = 'SELECT claimtrail_refresh_documents(ARRAY(SELECT id FROM claims_claim ORDER BY id))'

CLAIMS_CITING = """
CREATE OR REPLACE FUNCTION claimtrail_claims_citing(source_ids bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    -- Claims citing these sources, or any source whose provenance chain includes them
    -- (as deep as claims.documents follows a chain: 50 links).
    WITH RECURSIVE downstream(id, depth) AS (
        SELECT unnest(source_ids), 0
        UNION
        SELECT l.source_id, d.depth + 1 FROM sources_provenance l
          JOIN downstream d ON l.based_on_id = d.id WHERE d.depth < 50)
    SELECT ARRAY(SELECT DISTINCT ci.claim_id FROM claims_citation ci
                  WHERE ci.source_id IN (SELECT id FROM downstream))
$$
"""

# One function per kind of change. Transition tables: new_rows (insert, update) and
# old_rows (update, delete); a branch that names one runs only when it exists.
TRIGGER_FUNCTIONS = """
CREATE OR REPLACE FUNCTION claimtrail_documents_claims_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM claimtrail_refresh_documents(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        -- Not when only the search document changed: the citation trigger behind that
        -- refreshes the document itself.
        PERFORM claimtrail_refresh_documents(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE to_jsonb(n) - 'search_document' IS DISTINCT FROM
                   to_jsonb(o) - 'search_document'));
    ELSE
        DELETE FROM claims_storeddocument WHERE claim_id IN (SELECT id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;

-- claims_citation, claims_claim_people, claims_claim_topics: rows naming a claim.
CREATE OR REPLACE FUNCTION claimtrail_documents_claim_rows_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    claim_ids bigint[] := '{}';
BEGIN
    IF TG_OP <> 'DELETE' THEN
        claim_ids := claim_ids || ARRAY(SELECT claim_id FROM new_rows);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        claim_ids := claim_ids || ARRAY(SELECT claim_id FROM old_rows);
    END IF;
    PERFORM claimtrail_refresh_documents(claim_ids);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION claimtrail_documents_topics_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM claimtrail_refresh_documents(ARRAY(
        SELECT claim_id FROM claims_claim_topics WHERE topic_id IN (SELECT id FROM new_rows)));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION claimtrail_documents_sources_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM claimtrail_refresh_documents(
        claimtrail_claims_citing(ARRAY(SELECT id FROM new_rows)));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION claimtrail_documents_provenance_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    source_ids bigint[] := '{}';
BEGIN
    IF TG_OP <> 'DELETE' THEN
        source_ids := source_ids || ARRAY(SELECT source_id FROM new_rows);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        source_ids := source_ids || ARRAY(SELECT source_id FROM old_rows);
    END IF;
    PERFORM claimtrail_refresh_documents(claimtrail_claims_citing(source_ids));
    RETURN NULL;
END
$$;

-- A person appears as a claimant, as someone a claim is about, and as the publisher of
-- cited sources and of sources up their chains.
CREATE OR REPLACE FUNCTION claimtrail_documents_people_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM claimtrail_refresh_documents(
        ARRAY(SELECT id FROM claims_claim WHERE claimant_id IN (SELECT id FROM new_rows))
        || ARRAY(SELECT claim_id FROM claims_claim_people
                  WHERE person_id IN (SELECT id FROM new_rows))
        || claimtrail_claims_citing(ARRAY(
               SELECT id FROM sources_source WHERE publisher_id IN (SELECT id FROM new_rows))));
    RETURN NULL;
END
$$;
"""

# (trigger name, table, event, function)
TRIGGERS = [
    ("documents_claims_inserted", "claims_claim", "INSERT", "claims_changed"),
    ("documents_claims_updated", "claims_claim", "UPDATE", "claims_changed"),
    ("documents_claims_deleted", "claims_claim", "DELETE", "claims_changed"),
    *(
        (f"documents_{name}_{event.lower()}d", table, event, "claim_rows_changed")
        for name, table in (
            ("citations", "claims_citation"),
            ("claim_people", "claims_claim_people"),
            ("claim_topics", "claims_claim_topics"),
        )
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
    ("documents_topics_updated", "claims_topic", "UPDATE", "topics_changed"),
    ("documents_sources_updated", "sources_source", "UPDATE", "sources_changed"),
    ("documents_people_updated", "sources_person", "UPDATE", "people_changed"),
    *(
        (f"documents_provenance_{event.lower()}d", "sources_provenance", event, "provenance_changed")
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]
FUNCTIONS = [
    "claimtrail_documents_claims_changed()",
    "claimtrail_documents_claim_rows_changed()",
    "claimtrail_documents_topics_changed()",
    "claimtrail_documents_sources_changed()",
    "claimtrail_documents_provenance_changed()",
    "claimtrail_documents_people_changed()",
    "claimtrail_claims_citing(bigint[])",
    "claimtrail_refresh_documents(bigint[])",
]


def create_trigger(name: str, table: str, event: str, function: str) -> str:
    transitions = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION claimtrail_documents_{function}()"
    )


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in (REFRESH_FUNCTION, CLAIMS_CITING, TRIGGER_FUNCTIONS):
        schema_editor.execute(statement, None)
    for trigger in TRIGGERS:
        schema_editor.execute(create_trigger(*trigger))
    schema_editor.execute(REBUILD_DOCUMENTS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, _, _ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}")


class Migration(migrations.Migration):
    dependencies = [("claims", "0007_search_document_with_quotes"), ("sources", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="StoredDocument",
            fields=[
                ("claim_id", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "body",
                    models.TextField(help_text="The claim's JSON, exactly as the API serves it."),
                ),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]

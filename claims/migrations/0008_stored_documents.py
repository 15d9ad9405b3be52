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

from claims.documents import REBUILD_DOCUMENTS, REFRESH_FUNCTION

# The document SQL this migration installs. A change to claims.documents.CLAIM_JSON needs
# a new migration that installs REFRESH_FUNCTION again and rebuilds (REBUILD_DOCUMENTS),
# with the new digest: tests/claims/test_stored_documents.py fails until there is one.
DOCUMENT_SQL_SHA256 = "30896fba8657a3ff935dc321961b3519c715f979b2f53b2e5ea86417a5a8b1e1"

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

"""Retire the stored claim documents (0008); make the search document safe under concurrency.

Claim documents are built on each read again (claims.documents), so nothing a reader sees
can be stale: this drops the table, its triggers and their functions.

The search document (0007) stays, kept by triggers in the same transaction as the change.
Two transactions adding quotes to one claim at once could each write a document without
the other's quote: each computed it from its own snapshot. Now the citation trigger locks
the claims first, in id order, and computes their documents in a later statement, which
in READ COMMITTED sees everything committed by the time it got the locks. Whoever locks
second sees the first one's quotes (tests/claims/test_search_concurrency.py).
"""

from django.db import migrations

# Named as 0008 named them ("insertd" included).
DOCUMENT_TRIGGERS = [
    ("documents_claims_inserted", "claims_claim"),
    ("documents_claims_updated", "claims_claim"),
    ("documents_claims_deleted", "claims_claim"),
    *(
        (f"documents_{name}_{event}", table)
        for name, table in (
            ("citations", "claims_citation"),
            ("claim_people", "claims_claim_people"),
            ("claim_topics", "claims_claim_topics"),
            ("provenance", "sources_provenance"),
        )
        for event in ("insertd", "updated", "deleted")
    ),
    ("documents_topics_updated", "claims_topic"),
    ("documents_sources_updated", "sources_source"),
    ("documents_people_updated", "sources_person"),
]
DOCUMENT_FUNCTIONS = [
    "claimtrail_documents_claims_changed()",
    "claimtrail_documents_claim_rows_changed()",
    "claimtrail_documents_topics_changed()",
    "claimtrail_documents_sources_changed()",
    "claimtrail_documents_provenance_changed()",
    "claimtrail_documents_people_changed()",
    "claimtrail_claims_citing(bigint[])",
    "claimtrail_refresh_documents(bigint[])",
]

# The citation trigger of 0007, with the claims locked before their documents are written.
LOCKING_CITATION_TRIGGER = """
CREATE OR REPLACE FUNCTION claimtrail_citations_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    claim_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        claim_ids := ARRAY(SELECT DISTINCT claim_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        claim_ids := ARRAY(SELECT DISTINCT claim_id FROM old_rows);
    ELSE
        claim_ids := ARRAY(
            SELECT DISTINCT unnest(ARRAY[o.claim_id, n.claim_id])
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE o.quote IS DISTINCT FROM n.quote OR o.claim_id <> n.claim_id);
    END IF;
    IF cardinality(claim_ids) = 0 THEN
        RETURN NULL;
    END IF;
    -- Wait for any other transaction writing these claims, then read a fresh snapshot.
    PERFORM 1 FROM claims_claim WHERE id = ANY(claim_ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE claims_claim c
       SET search_document = claimtrail_claim_document(c.id, c.text, c.summary)
     WHERE c.id = ANY(claim_ids);
    RETURN NULL;
END
$$
"""

# 0007's version, for going back.
PLAIN_CITATION_TRIGGER = """
CREATE OR REPLACE FUNCTION claimtrail_citations_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE claims_claim c
           SET search_document = claimtrail_claim_document(c.id, c.text, c.summary)
         WHERE c.id IN (SELECT claim_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE claims_claim c
           SET search_document = claimtrail_claim_document(c.id, c.text, c.summary)
         WHERE c.id IN (SELECT claim_id FROM old_rows);
    ELSE
        UPDATE claims_claim c
           SET search_document = claimtrail_claim_document(c.id, c.text, c.summary)
         WHERE c.id IN (
               SELECT unnest(ARRAY[o.claim_id, n.claim_id])
                 FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE o.quote IS DISTINCT FROM n.quote OR o.claim_id <> n.claim_id);
    END IF;
    RETURN NULL;
END
$$
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in DOCUMENT_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in DOCUMENT_FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}")
    schema_editor.execute(LOCKING_CITATION_TRIGGER)


def backward(apps, schema_editor):
    # Back to 0008's schema without its triggers: run `migrate claims 0007` and then
    # `migrate claims 0008` again to rebuild stored documents, should anyone need them.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LOCKING_CITATION_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("claims", "0008_stored_documents")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="StoredDocument"),
    ]

"""One search document per claim, quotes included, ranked by its index; PostgreSQL only.

Before this, a search matched claims on their own document and citations on an expression
index over quotes, then fetched every matching claim to rank it: at a million claims a
common word meant some 13,000 row fetches (~150 ms). Now each claim's document holds its
text (weight A), summary (B) and the quotes of its citations (D), kept current by
triggers, so one index answers the search. Where the RUM extension is available
(Debian/PGDG package postgresql-NN-rum) that index is RUM, which stores word positions
and returns matches best first: a page of results reads 50 rows, not every match. Without
it the index is GIN and PostgreSQL ranks every match, as before (claims.filters).
"""

from django.conf import settings
from django.db import DatabaseError, migrations, transaction

DOCUMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION claimtrail_claim_document(claim_id bigint, claim_text text,
                                                     claim_summary text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, COALESCE(claim_text, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, COALESCE(claim_summary, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, COALESCE(
               (SELECT string_agg(ci.quote, E'\\n' ORDER BY ci.id)
                  FROM claims_citation ci WHERE ci.claim_id = $1), '')), 'D')
$$
"""

CLAIM_TRIGGER = """
CREATE OR REPLACE FUNCTION claimtrail_claim_search_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document := claimtrail_claim_document(NEW.id, NEW.text, NEW.summary);
    RETURN NEW;
END
$$;
CREATE TRIGGER claim_search_document BEFORE INSERT OR UPDATE OF text, summary
    ON claims_claim FOR EACH ROW EXECUTE FUNCTION claimtrail_claim_search_document();
"""

# Once per statement, whatever the number of rows: a COPY of a million citations updates
# each claim once. Updates that touch neither the quote nor the claim cost nothing.
CITATION_TRIGGERS = """
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
$$;
CREATE TRIGGER citations_inserted AFTER INSERT ON claims_citation
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claimtrail_citations_changed();
CREATE TRIGGER citations_updated AFTER UPDATE ON claims_citation
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claimtrail_citations_changed();
CREATE TRIGGER citations_deleted AFTER DELETE ON claims_citation
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claimtrail_citations_changed();
"""

BACKFILL = (
    "UPDATE claims_claim"
    " SET search_document = claimtrail_claim_document(id, text, summary)"
)
RUM_INDEX = (
    "CREATE INDEX claim_search_document_idx ON claims_claim"
    " USING rum (search_document rum_tsvector_ops)"
)
GIN_INDEX = "CREATE INDEX claim_search_document_idx ON claims_claim USING gin (search_document)"


def create_search_index(schema_editor) -> None:
    """RUM when the extension can be created here, GIN otherwise, or when settings.SEARCH_INDEX
    asks for GIN."""
    if getattr(settings, "SEARCH_INDEX", "auto") == "gin":
        schema_editor.execute(GIN_INDEX)
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except DatabaseError:
        schema_editor.execute(GIN_INDEX)
    else:
        schema_editor.execute(RUM_INDEX)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in (
        "DROP INDEX IF EXISTS claim_search_document_idx",
        "DROP INDEX IF EXISTS citation_quote_search_idx",
        "ALTER TABLE claims_claim DROP COLUMN IF EXISTS search_document",
        "ALTER TABLE claims_claim ADD COLUMN search_document tsvector",
        DOCUMENT_FUNCTION,
        CLAIM_TRIGGER,
        CITATION_TRIGGERS,
        BACKFILL,
    ):
        schema_editor.execute(statement)
    create_search_index(schema_editor)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in (
        "DROP TRIGGER IF EXISTS citations_inserted ON claims_citation",
        "DROP TRIGGER IF EXISTS citations_updated ON claims_citation",
        "DROP TRIGGER IF EXISTS citations_deleted ON claims_citation",
        "DROP TRIGGER IF EXISTS claim_search_document ON claims_claim",
        "DROP FUNCTION IF EXISTS claimtrail_citations_changed()",
        "DROP FUNCTION IF EXISTS claimtrail_claim_search_document()",
        "DROP FUNCTION IF EXISTS claimtrail_claim_document(bigint, text, text)",
        "DROP INDEX IF EXISTS claim_search_document_idx",
        "ALTER TABLE claims_claim DROP COLUMN IF EXISTS search_document",
        "ALTER TABLE claims_claim ADD COLUMN search_document tsvector GENERATED ALWAYS AS ("
        " setweight(to_tsvector('english'::regconfig, COALESCE(text, '')), 'A')"
        " || setweight(to_tsvector('english'::regconfig, COALESCE(summary, '')), 'B')) STORED",
        "CREATE INDEX claim_search_document_idx ON claims_claim USING gin (search_document)",
        "CREATE INDEX citation_quote_search_idx ON claims_citation USING gin ("
        " to_tsvector('english'::regconfig, COALESCE(quote, '')))",
    ):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("claims", "0006_stored_search_document")]

    operations = [migrations.RunPython(forward, backward)]

"""A claim's search document stays within PostgreSQL's limits, whatever is stored.

A tsvector holds at most 1 MB; a word list can take five bytes of it per character of
input. The document reads at most the first 50,000 characters of the text, 20,000 of the
summary and 100,000 of the quotes (TEXT_LIMITS keep what editors type well below the
first two), so a claim with hundreds of long quotes is still saved, and searchable by
its first 100,000 characters of quotes.
"""

from django.db import migrations

CAPPED = """
CREATE OR REPLACE FUNCTION claimtrail_claim_document(claim_id bigint, claim_text text,
                                                     claim_summary text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, left(COALESCE(claim_text, ''), 50000)), 'A')
        || setweight(to_tsvector('english'::regconfig,
                                 left(COALESCE(claim_summary, ''), 20000)), 'B')
        || setweight(to_tsvector('english'::regconfig, left(COALESCE(
               (SELECT string_agg(ci.quote, E'\\n' ORDER BY ci.id)
                  FROM claims_citation ci WHERE ci.claim_id = $1), ''), 100000)), 'D')
$$
"""

# 0007's, for going back.
UNCAPPED = """
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


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CAPPED)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNCAPPED)


class Migration(migrations.Migration):
    dependencies = [("claims", "0011_text_limits")]

    operations = [migrations.RunPython(forward, backward)]

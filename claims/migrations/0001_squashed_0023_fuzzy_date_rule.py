"""Claims as they stand after migrations 0001 to 0023, in one migration.

Databases that ran those migrations keep them (`replaces`); a new database runs this one.
Beside the models it makes what the models cannot say, on PostgreSQL only:
- each claim's search document (its text, summary and its citations' quotes), kept by
  triggers in the same transaction as the change, and its index: RUM where the extension
  can be created (matches come best first), GIN otherwise or when settings.SEARCH_INDEX
  asks for it (claims.search);
- the trigram index that finds similar claims (pg_trgm, claims.duplicates).
And, everywhere, the Editors group with exactly the permissions editors need.

What 0008 built and 0009 dropped (stored claim documents) is not here. The spreadsheet
guard claimtrail_csv_safe is sources' (sources 0009). tests/test_migrations.py proves a
database made by this migration has the same schema, functions, triggers and Editors
group as one made by 0001 to 0023.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import DatabaseError, transaction

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models



# The search document: the claim's text (weight A), summary (B) and its citations' quotes
# (D), each read up to a length that keeps a tsvector within PostgreSQL's 1 MB.
DOCUMENT_FUNCTION = """
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

# Once per statement, whatever the number of rows. Two transactions adding quotes to one
# claim at once: the claims are locked first, in id order, and their documents computed in
# a later statement, which sees everything committed by the time it got the locks
# (tests/claims/test_search_concurrency.py).
CITATION_TRIGGERS = """
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

RUM_INDEX = (
    "CREATE INDEX claim_search_document_idx ON claims_claim"
    " USING rum (search_document rum_tsvector_ops)"
)
GIN_INDEX = "CREATE INDEX claim_search_document_idx ON claims_claim USING gin (search_document)"
TRIGRAM_INDEX = "CREATE INDEX claim_text_trgm_idx ON claims_claim USING gin (text gin_trgm_ops)"


def create_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE claims_claim ADD COLUMN search_document tsvector")
    for statement in (DOCUMENT_FUNCTION, CLAIM_TRIGGER, CITATION_TRIGGERS):
        schema_editor.execute(statement)
    # RUM when the extension can be created here, GIN otherwise, or when asked for GIN.
    if getattr(settings, "SEARCH_INDEX", "auto") == "gin":
        schema_editor.execute(GIN_INDEX)
    else:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS rum")
        except DatabaseError:
            schema_editor.execute(GIN_INDEX)
        else:
            schema_editor.execute(RUM_INDEX)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(TRIGRAM_INDEX)


def drop_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in (
        "DROP INDEX IF EXISTS claim_text_trgm_idx",
        "DROP TRIGGER IF EXISTS citations_inserted ON claims_citation",
        "DROP TRIGGER IF EXISTS citations_updated ON claims_citation",
        "DROP TRIGGER IF EXISTS citations_deleted ON claims_citation",
        "DROP TRIGGER IF EXISTS claim_search_document ON claims_claim",
        "DROP FUNCTION IF EXISTS claimtrail_citations_changed()",
        "DROP FUNCTION IF EXISTS claimtrail_claim_search_document()",
        "DROP FUNCTION IF EXISTS claimtrail_claim_document(bigint, text, text)",
        "DROP INDEX IF EXISTS claim_search_document_idx",
        "ALTER TABLE claims_claim DROP COLUMN IF EXISTS search_document",
    ):
        schema_editor.execute(statement)


# Editors add, change and view claims, citations, relations, topics, sources, people,
# provenance links and snapshots, and view quote checks. They may delete a citation, a
# relation or a provenance link (to correct a mistake; history keeps the old row), but
# never a claim, source, person or topic: that stays with administrators, so nothing is
# deleted by accident. A snapshot is never changed or deleted: a new one is added.
EDITOR_PERMISSIONS = {
    "claims": {
        "claim": ["add", "change", "view"],
        "citation": ["add", "change", "delete", "view"],
        "claimrelation": ["add", "change", "delete", "view"],
        "topic": ["add", "change", "view"],
        "quotecheck": ["view"],
    },
    "sources": {
        "person": ["add", "change", "view"],
        "source": ["add", "change", "view"],
        "provenance": ["add", "change", "delete", "view"],
        "snapshot": ["add", "view"],
    },
}


def create_editors_group(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make sure they exist.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    group.permissions.add(
        *(
            Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            for app_label, models in EDITOR_PERMISSIONS.items()
            for model, actions in models.items()
            for action in actions
        )
    )


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ("claims", "0001_initial"),
        ("claims", "0002_editors_group"),
        ("claims", "0003_search_indexes"),
        ("claims", "0004_list_indexes"),
        ("claims", "0005_csv_safe_function"),
        ("claims", "0006_stored_search_document"),
        ("claims", "0007_search_document_with_quotes"),
        ("claims", "0008_stored_documents"),
        ("claims", "0009_retire_stored_documents"),
        ("claims", "0010_csv_safe_formula_forms"),
        ("claims", "0011_text_limits"),
        ("claims", "0012_search_document_within_limits"),
        ("claims", "0013_constraint_messages"),
        ("claims", "0014_review_record"),
        ("claims", "0015_citation_via"),
        ("claims", "0016_claim_text_trigram_index"),
        ("claims", "0017_claim_relations"),
        ("claims", "0018_csv_safe_fast_path"),
        ("claims", "0019_quote_checks"),
        ("claims", "0020_record_versions"),
        ("claims", "0021_csv_safe_unicode"),
        ("claims", "0022_citation_paths_and_source_claimants"),
        ("claims", "0023_fuzzy_date_rule"),
    ]

    dependencies = [
        ('sources', '0009_csv_safe_function'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name='Topic',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='As readers see it.', max_length=100, unique=True)),
                ('slug', models.SlugField(help_text='Used in links and filters.', max_length=100, unique=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='Claim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField(help_text="The claim in the claimant's own words, verbatim.", max_length=10000, validators=[django.core.validators.MaxLengthValidator(10000)], verbose_name='claim as stated')),
                ('summary', models.TextField(blank=True, help_text='Optional: the claim restated in neutral words.', max_length=2000, validators=[django.core.validators.MaxLengthValidator(2000)])),
                ('made_text', models.CharField(blank=True, help_text='When the claim was made, as written: "Sept. 26, 2019", "end of 2018".', max_length=100, verbose_name='made')),
                ('made_edtf', models.CharField(blank=True, help_text='Filled from the wording; correct it by hand if the wording is ambiguous.', max_length=100, verbose_name='made (EDTF)')),
                ('made_earliest', models.DateField(blank=True, editable=False, null=True)),
                ('made_latest', models.DateField(blank=True, editable=False, null=True)),
                ('event_text', models.CharField(blank=True, help_text='When the claimed event happened, as written: "2014", "May and September 2019".', max_length=100, verbose_name='event happened')),
                ('event_edtf', models.CharField(blank=True, help_text='Filled from the wording; correct it by hand if the wording is ambiguous.', max_length=100, verbose_name='event (EDTF)')),
                ('event_earliest', models.DateField(blank=True, editable=False, null=True)),
                ('event_latest', models.DateField(blank=True, editable=False, null=True)),
                ('rating', models.CharField(choices=[('unreviewed', 'Unreviewed'), ('supported', 'Supported by evidence'), ('mixed', 'Mixed evidence'), ('unsupported', 'Unsupported: no evidence given'), ('disputed', 'Disputed'), ('false', 'False')], default='unreviewed', help_text='What the cited evidence shows, once reviewed.', max_length=20)),
                ('rating_rationale', models.TextField(blank=True, help_text='Why this rating, in neutral words. Required once rated.', max_length=5000, validators=[django.core.validators.MaxLengthValidator(5000)])),
                ('reviewed_on', models.DateField(blank=True, editable=False, help_text='When the claim was last rated (set when its rating changes).', null=True)),
                ('state', models.CharField(choices=[('draft', 'Draft'), ('published', 'Published')], default='draft', help_text='Drafts are visible to editors only.', max_length=20)),
                ('language', models.CharField(default='en', help_text='Language of the claim (BCP 47): "en", "zh-Hans".', max_length=35)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('claimant', models.ForeignKey(blank=True, help_text='Who made the claim. Leave this and the source blank when it is unattributed.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='claims_made', to='sources.person')),
                ('claimant_source', models.ForeignKey(blank=True, help_text='Or the source that makes the claim, when a document says it (“the documents show”): a leaked document, a report, a transcript. Not both.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='claims_attributed', to='sources.source', verbose_name='claimant (a source)')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('people', models.ManyToManyField(blank=True, help_text='The people and organizations the claim is about.', related_name='claims_about', to='sources.person', verbose_name='about')),
                ('reviewed_by', models.ForeignKey(blank=True, editable=False, help_text='Who last rated the claim.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('topics', models.ManyToManyField(blank=True, related_name='claims', to='claims.topic')),
            ],
        ),
        migrations.CreateModel(
            name='Citation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('appearance', 'Where the claim appears'), ('supports', 'Supports'), ('disputes', 'Disputes'), ('context', 'Context')], default='supports', help_text='Where the claim appears, or whether this evidence supports or disputes it.', max_length=20)),
                ('quote', models.TextField(blank=True, help_text='The exact words in the source.', max_length=10000, validators=[django.core.validators.MaxLengthValidator(10000)])),
                ('locator', models.CharField(blank=True, help_text='Where in the source: "p. 12", "para. 4", "03:15".', max_length=200)),
                ('reliability_note', models.TextField(blank=True, help_text='How far this piece of evidence can be trusted, and why. Say so when the source gives no evidence for the claim.', max_length=5000, validators=[django.core.validators.MaxLengthValidator(5000)])),
                ('accessed_on', models.DateField(blank=True, help_text='When the source was read for this citation.', null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('source', models.ForeignKey(help_text='A cited source cannot be deleted while this citation exists.', on_delete=django.db.models.deletion.PROTECT, related_name='citations', to='sources.source')),
                ('claim', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='citations', to='claims.claim')),
            ],
        ),
        migrations.CreateModel(
            name='ClaimRelation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('repeats', 'repeats'), ('contradicts', 'contradicts'), ('refines', 'refines'), ('responds_to', 'responds to')], help_text='How they relate.', max_length=20)),
                ('note', models.CharField(blank=True, help_text='Why, in a few words.', max_length=500)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('claim', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='relations', to='claims.claim')),
                ('other', models.ForeignKey(help_text='The claim this one relates to.', on_delete=django.db.models.deletion.CASCADE, related_name='related_from', to='claims.claim', verbose_name='other claim')),
            ],
        ),
        migrations.CreateModel(
            name='HistoricalCitation',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('role', models.CharField(choices=[('appearance', 'Where the claim appears'), ('supports', 'Supports'), ('disputes', 'Disputes'), ('context', 'Context')], default='supports', help_text='Where the claim appears, or whether this evidence supports or disputes it.', max_length=20)),
                ('quote', models.TextField(blank=True, help_text='The exact words in the source.', max_length=10000, validators=[django.core.validators.MaxLengthValidator(10000)])),
                ('locator', models.CharField(blank=True, help_text='Where in the source: "p. 12", "para. 4", "03:15".', max_length=200)),
                ('reliability_note', models.TextField(blank=True, help_text='How far this piece of evidence can be trusted, and why. Say so when the source gives no evidence for the claim.', max_length=5000, validators=[django.core.validators.MaxLengthValidator(5000)])),
                ('accessed_on', models.DateField(blank=True, help_text='When the source was read for this citation.', null=True)),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('updated_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('claim', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.claim')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('source', models.ForeignKey(blank=True, db_constraint=False, help_text='A cited source cannot be deleted while this citation exists.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.source')),
            ],
            options={
                'verbose_name': 'historical citation',
                'verbose_name_plural': 'historical citations',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalCitationStep',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(help_text='1 for the first step, and so on.')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('citation', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.citation')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('link', models.ForeignKey(blank=True, db_constraint=False, help_text="A provenance link on a citation's path is kept while the path uses it.", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.provenance')),
            ],
            options={
                'verbose_name': "historical step of a citation's path",
                'verbose_name_plural': "historical step of a citation's paths",
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalClaim',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('text', models.TextField(help_text="The claim in the claimant's own words, verbatim.", max_length=10000, validators=[django.core.validators.MaxLengthValidator(10000)], verbose_name='claim as stated')),
                ('summary', models.TextField(blank=True, help_text='Optional: the claim restated in neutral words.', max_length=2000, validators=[django.core.validators.MaxLengthValidator(2000)])),
                ('made_text', models.CharField(blank=True, help_text='When the claim was made, as written: "Sept. 26, 2019", "end of 2018".', max_length=100, verbose_name='made')),
                ('made_edtf', models.CharField(blank=True, help_text='Filled from the wording; correct it by hand if the wording is ambiguous.', max_length=100, verbose_name='made (EDTF)')),
                ('made_earliest', models.DateField(blank=True, editable=False, null=True)),
                ('made_latest', models.DateField(blank=True, editable=False, null=True)),
                ('event_text', models.CharField(blank=True, help_text='When the claimed event happened, as written: "2014", "May and September 2019".', max_length=100, verbose_name='event happened')),
                ('event_edtf', models.CharField(blank=True, help_text='Filled from the wording; correct it by hand if the wording is ambiguous.', max_length=100, verbose_name='event (EDTF)')),
                ('event_earliest', models.DateField(blank=True, editable=False, null=True)),
                ('event_latest', models.DateField(blank=True, editable=False, null=True)),
                ('rating', models.CharField(choices=[('unreviewed', 'Unreviewed'), ('supported', 'Supported by evidence'), ('mixed', 'Mixed evidence'), ('unsupported', 'Unsupported: no evidence given'), ('disputed', 'Disputed'), ('false', 'False')], default='unreviewed', help_text='What the cited evidence shows, once reviewed.', max_length=20)),
                ('rating_rationale', models.TextField(blank=True, help_text='Why this rating, in neutral words. Required once rated.', max_length=5000, validators=[django.core.validators.MaxLengthValidator(5000)])),
                ('reviewed_on', models.DateField(blank=True, editable=False, help_text='When the claim was last rated (set when its rating changes).', null=True)),
                ('state', models.CharField(choices=[('draft', 'Draft'), ('published', 'Published')], default='draft', help_text='Drafts are visible to editors only.', max_length=20)),
                ('language', models.CharField(default='en', help_text='Language of the claim (BCP 47): "en", "zh-Hans".', max_length=35)),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('updated_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('claimant', models.ForeignKey(blank=True, db_constraint=False, help_text='Who made the claim. Leave this and the source blank when it is unattributed.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.person')),
                ('claimant_source', models.ForeignKey(blank=True, db_constraint=False, help_text='Or the source that makes the claim, when a document says it (“the documents show”): a leaked document, a report, a transcript. Not both.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.source', verbose_name='claimant (a source)')),
                ('created_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('reviewed_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text='Who last rated the claim.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical claim',
                'verbose_name_plural': 'historical claims',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalClaim_people',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('m2m_history_id', models.AutoField(primary_key=True, serialize=False)),
                ('claim', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.claim')),
                ('history', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, to='claims.historicalclaim')),
                ('person', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.person')),
            ],
            options={
                'verbose_name': 'HistoricalClaim_people',
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalClaimRelation',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('kind', models.CharField(choices=[('repeats', 'repeats'), ('contradicts', 'contradicts'), ('refines', 'refines'), ('responds_to', 'responds to')], help_text='How they relate.', max_length=20)),
                ('note', models.CharField(blank=True, help_text='Why, in a few words.', max_length=500)),
                ('updated_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('claim', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.claim')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('other', models.ForeignKey(blank=True, db_constraint=False, help_text='The claim this one relates to.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.claim', verbose_name='other claim')),
            ],
            options={
                'verbose_name': 'historical claim relation',
                'verbose_name_plural': 'historical claim relations',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalTopic',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('name', models.CharField(db_index=True, help_text='As readers see it.', max_length=100)),
                ('slug', models.SlugField(help_text='Used in links and filters.', max_length=100)),
                ('updated_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical topic',
                'verbose_name_plural': 'historical topics',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalClaim_topics',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('m2m_history_id', models.AutoField(primary_key=True, serialize=False)),
                ('claim', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.claim')),
                ('history', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, to='claims.historicalclaim')),
                ('topic', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='claims.topic')),
            ],
            options={
                'verbose_name': 'HistoricalClaim_topics',
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='QuoteCheck',
            fields=[
                ('citation', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='quote_check', serialize=False, to='claims.citation')),
                ('outcome', models.CharField(choices=[('exact', 'Found as quoted'), ('normalised', 'Found, but for spaces, quote marks or dashes'), ('close', 'A close passage found'), ('not_found', 'Not found')], help_text='exact: found as quoted; normalised: found but for spaces, quote marks or dashes; close: a passage close enough (see score); not_found: the closest passage is given.', max_length=20)),
                ('score', models.PositiveSmallIntegerField(help_text='How close the passage is to the quote, 0 to 100.')),
                ('exact', models.TextField(blank=True, help_text='The passage found, as the snapshot has it.')),
                ('prefix', models.TextField(blank=True, help_text='The words just before it.')),
                ('suffix', models.TextField(blank=True, help_text='The words just after it.')),
                ('start', models.PositiveIntegerField(help_text='Where the passage starts in the text.')),
                ('end', models.PositiveIntegerField(help_text='Where it ends.')),
                ('checked_at', models.DateTimeField(help_text='When it was checked.')),
                ('snapshot', models.ForeignKey(help_text='The snapshot checked against.', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sources.snapshot')),
            ],
        ),
        migrations.CreateModel(
            name='CitationStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(help_text='1 for the first step, and so on.')),
                ('citation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='claims.citation')),
                ('link', models.ForeignKey(help_text="A provenance link on a citation's path is kept while the path uses it.", on_delete=django.db.models.deletion.PROTECT, related_name='citation_steps', to='sources.provenance')),
            ],
            options={
                'verbose_name': "step of a citation's path",
                'ordering': ['citation', 'position'],
                'indexes': [models.Index(fields=['link'], name='citation_step_link_idx')],
                'constraints': [models.UniqueConstraint(fields=('citation', 'position'), name='citation_step_unique_position', violation_error_message='A path has one step in each place.'), models.UniqueConstraint(fields=('citation', 'link'), name='citation_step_unique_link', violation_error_message='A path takes each provenance link once.'), models.CheckConstraint(condition=models.Q(('position__gte', 1)), name='citation_step_position_positive', violation_error_message='Steps are numbered from 1.')],
            },
        ),
        migrations.AddIndex(
            model_name='citation',
            index=models.Index(fields=['source', 'role'], name='citation_source_role_idx'),
        ),
        migrations.AddConstraint(
            model_name='citation',
            constraint=models.CheckConstraint(condition=models.Q(('role__in', ['appearance', 'supports', 'disputes', 'context'])), name='citation_role_valid', violation_error_message='Choose one of the roles.'),
        ),
        migrations.AddConstraint(
            model_name='citation',
            constraint=models.UniqueConstraint(fields=('claim', 'source', 'role'), name='citation_unique_role', violation_error_message='This source is already cited in this role for this claim.'),
        ),
        migrations.AddConstraint(
            model_name='claimrelation',
            constraint=models.UniqueConstraint(fields=('claim', 'kind', 'other'), name='claim_relation_unique', violation_error_message='These claims are already related this way.'),
        ),
        migrations.AddConstraint(
            model_name='claimrelation',
            constraint=models.CheckConstraint(condition=models.Q(('claim', models.F('other')), _negated=True), name='claim_relation_not_self', violation_error_message='A claim cannot relate to itself.'),
        ),
        migrations.AddConstraint(
            model_name='claimrelation',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['repeats', 'contradicts', 'refines', 'responds_to'])), name='claim_relation_kind_valid', violation_error_message='Choose one of the kinds of relation.'),
        ),
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(fields=['state', '-updated_at', '-id'], name='claim_state_updated_idx'),
        ),
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(fields=['-updated_at', '-id'], name='claim_updated_idx'),
        ),
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(fields=['made_earliest', 'made_latest'], name='claim_made_idx'),
        ),
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(fields=['event_earliest', 'event_latest'], name='claim_event_idx'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('rating__in', ['unreviewed', 'supported', 'mixed', 'unsupported', 'disputed', 'false'])), name='claim_rating_valid', violation_error_message='Choose one of the ratings.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['draft', 'published'])), name='claim_state_valid', violation_error_message='Choose draft or published.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('rating', 'unreviewed'), models.Q(('rating_rationale', ''), _negated=True), _connector='OR'), name='claim_rating_has_rationale', violation_error_message='Explain the rating: which evidence supports it.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('claimant__isnull', True), ('claimant_source__isnull', True), _connector='OR'), name='claim_one_claimant', violation_error_message='A claim is made by a person or organization, or by a source, not both: clear one of them.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('text', ''), _negated=True), name='claim_text_not_empty', violation_error_message='Enter the claim as stated.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('made_earliest__isnull', True), ('made_latest__isnull', True), ('made_earliest__lte', models.F('made_latest')), _connector='OR'), name='claim_made_bounds_ordered', violation_error_message='The date ends before it starts.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('made_text', ''), models.Q(('made_edtf', ''), _negated=True), _connector='OR'), name='claim_made_has_edtf', violation_error_message="Enter the date's EDTF value, or leave its wording blank."),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('event_earliest__isnull', True), ('event_latest__isnull', True), ('event_earliest__lte', models.F('event_latest')), _connector='OR'), name='claim_event_bounds_ordered', violation_error_message='The date ends before it starts.'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('event_text', ''), models.Q(('event_edtf', ''), _negated=True), _connector='OR'), name='claim_event_has_edtf', violation_error_message="Enter the date's EDTF value, or leave its wording blank."),
        ),
        migrations.AddConstraint(
            model_name='quotecheck',
            constraint=models.CheckConstraint(condition=models.Q(('outcome__in', ['exact', 'normalised', 'close', 'not_found'])), name='quote_check_outcome_valid', violation_error_message='Not a quote check outcome.'),
        ),
        migrations.RunPython(create_search, drop_search),
        migrations.RunPython(create_editors_group, remove_editors_group),
    ]

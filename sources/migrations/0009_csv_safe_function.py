"""The CSV exports' spreadsheet guard, claimtrail_csv_safe, owned here, beside the export
engine that calls it (sources.exports). Claims migrations 0005, 0010, 0018 and 0021 wrote
its earlier versions; this one writes 0021's, the current one, again. A later change of
the function goes in a migration of this app that depends on ("claims", "0021_csv_safe_
unicode") as well, so that on a new database no older claims migration runs after it.
tests/test_formula_guard.py proves it agrees with sources.export_engine.needs_guard.
"""

from django.db import migrations

# The Zs, Zl, Zp, Cc and Cf code points of Unicode 14.0 (Python 3.11's unicodedata, and
# the version of PostgreSQL 15's normalize()) but U+0000, which text cannot hold; written
# out by a one-off script, since a migration never reads application code.
IGNORABLE = (
    "E'"
    r"\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D"
    r"\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A"
    r"\u001B\u001C\u001D\u001E\u001F\u0020\u007F\u0080\u0081\u0082\u0083\u0084\u0085"
    r"\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F\u0090\u0091\u0092"
    r"\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
    r"\u00A0\u00AD\u0600\u0601\u0602\u0603\u0604\u0605\u061C\u06DD\u070F\u0890\u0891"
    r"\u08E2\u1680\u180E\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    r"\u200A\u200B\u200C\u200D\u200E\u200F\u2028\u2029\u202A\u202B\u202C\u202D\u202E"
    r"\u202F\u205F\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206A\u206B"
    r"\u206C\u206D\u206E\u206F\u3000\uFEFF\uFFF9\uFFFA\uFFFB\U000110BD\U000110CD"
    r"\U00013430\U00013431\U00013432\U00013433\U00013434\U00013435\U00013436\U00013437"
    r"\U00013438\U0001BCA0\U0001BCA1\U0001BCA2\U0001BCA3\U0001D173\U0001D174\U0001D175"
    r"\U0001D176\U0001D177\U0001D178\U0001D179\U0001D17A\U000E0001\U000E0020\U000E0021"
    r"\U000E0022\U000E0023\U000E0024\U000E0025\U000E0026\U000E0027\U000E0028\U000E0029"
    r"\U000E002A\U000E002B\U000E002C\U000E002D\U000E002E\U000E002F\U000E0030\U000E0031"
    r"\U000E0032\U000E0033\U000E0034\U000E0035\U000E0036\U000E0037\U000E0038\U000E0039"
    r"\U000E003A\U000E003B\U000E003C\U000E003D\U000E003E\U000E003F\U000E0040\U000E0041"
    r"\U000E0042\U000E0043\U000E0044\U000E0045\U000E0046\U000E0047\U000E0048\U000E0049"
    r"\U000E004A\U000E004B\U000E004C\U000E004D\U000E004E\U000E004F\U000E0050\U000E0051"
    r"\U000E0052\U000E0053\U000E0054\U000E0055\U000E0056\U000E0057\U000E0058\U000E0059"
    r"\U000E005A\U000E005B\U000E005C\U000E005D\U000E005E\U000E005F\U000E0060\U000E0061"
    r"\U000E0062\U000E0063\U000E0064\U000E0065\U000E0066\U000E0067\U000E0068\U000E0069"
    r"\U000E006A\U000E006B\U000E006C\U000E006D\U000E006E\U000E006F\U000E0070\U000E0071"
    r"\U000E0072\U000E0073\U000E0074\U000E0075\U000E0076\U000E0077\U000E0078\U000E0079"
    r"\U000E007A\U000E007B\U000E007C\U000E007D\U000E007E\U000E007F"
    "'"
)

UNICODE = rf"""
CREATE OR REPLACE FUNCTION claimtrail_csv_safe(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value = '' THEN NULL
        -- 0-9; A-Z, [ \ ] ^ _ `, a-z, {{ | }} ~; Latin-1 letters to Hebrew; CJK, Hangul and
        -- private use: safe as they are, and most cells start with one.
        WHEN ascii(value) BETWEEN 48 AND 57 OR ascii(value) BETWEEN 65 AND 126
          OR ascii(value) BETWEEN 174 AND 1535 OR ascii(value) BETWEEN 12289 AND 64296
        THEN value
        WHEN left(value, 1) IN (chr(9), chr(13), '''')
          OR left(normalize(left(ltrim(value, {IGNORABLE}), 1), NFKC), 1) IN ('=', '+', '-', '@')
        THEN '''' || value
        ELSE value
    END
$$
"""



def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNICODE)


class Migration(migrations.Migration):
    dependencies = [("sources", "0008_fuzzy_date_rule")]

    # Going back leaves the function as it is: claims' migrations own its history.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]

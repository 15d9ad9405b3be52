"""End-to-end tests in a real browser: Debian's chromium driven by Selenium and chromedriver.

They run against pytest-django's live server. Where no browser is installed they skip and
say why; in CI (CI=true) a missing browser is a failure, since CI installs one.
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from claims.models import Claim, State
from sources.models import Provenance, Source
from tests.factories import CitationFactory, SourceFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# axe-core, installed from the npm registry by `npm ci` (package.json; .ci/run does it).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Each test gets the migrations' data (the Editors group) back after the live server's
# transactional flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM and CHROMEDRIVER):
        reason = "no chromium/chromedriver: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but there is {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    # The console, to read Content-Security-Policy violations.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def wait_for(browser: WebDriver, css: str) -> WebElement:
    try:
        return WebDriverWait(browser, 10).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, css))
        )
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "failure.png"))
        raise


def choose_autocomplete(browser: WebDriver, container: WebElement, text: str) -> None:
    """Pick an option in the admin's select2 autocomplete by typing part of its name."""
    container.find_element(By.CSS_SELECTOR, ".select2-selection").click()
    field = wait_for(browser, ".select2-container--open .select2-search__field")
    field.send_keys(text)
    option = WebDriverWait(browser, 10).until(
        ec.element_to_be_clickable(
            (
                By.XPATH,
                f"//li[contains(@class,'select2-results__option') and contains(., '{text}')]",
            )
        )
    )
    option.click()


def test_an_editor_adds_a_claim_with_two_citations_and_readers_see_it(
    browser: WebDriver, live_server: object
) -> None:
    call_command("load_demo")
    editor = sign_in_editor(browser, live_server)

    browser.get(f"{live_server}/admin/claims/claim/add/")
    browser.find_element(By.NAME, "text").send_keys("Detainees were paid nothing at all.")
    browser.find_element(By.NAME, "made_text").send_keys("end of 2018")
    Select(browser.find_element(By.NAME, "state")).select_by_value("published")
    first = browser.find_element(By.ID, "citations-0")
    choose_autocomplete(browser, first, "Associated Press report")
    Select(first.find_element(By.NAME, "citations-0-role")).select_by_value("supports")
    first.find_element(By.NAME, "citations-0-quote").send_keys("not paid any wages")
    browser.find_element(By.CSS_SELECTOR, "#citations-group .add-row a").click()
    second = wait_for(browser, "#citations-1")
    choose_autocomplete(browser, second, "mass detention of Uighurs")
    Select(second.find_element(By.NAME, "citations-1-role")).select_by_value("appearance")
    second.find_element(By.NAME, "citations-1-reliability_note").send_keys("A paraphrase.")
    browser.find_element(By.NAME, "_save").click()
    wait_for(browser, ".messagelist .success")

    claim = Claim.objects.get(text="Detainees were paid nothing at all.")
    assert (claim.made_edtf, claim.state, claim.created_by) == ("2018-36", "published", editor)
    assert claim.citations.count() == 2

    browser.get(f"{live_server}/claims/{claim.pk}/")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "Detainees were paid nothing at all." in page
    assert "end of 2018" in page
    assert "not paid any wages" in page
    assert "A paraphrase." in page

    browser.get(f"{live_server}/api/v1/claims/{claim.pk}/?format=json")
    api = browser.find_element(By.TAG_NAME, "body").text
    assert '"edtf":"2018-36"' in api
    assert "Associated Press report on forced labor in Xinjiang camps" in api


def test_an_editor_builds_a_citation_s_path_from_the_steps_offered(
    browser: WebDriver, live_server: object
) -> None:
    article = SourceFactory(title="The article")
    report = SourceFactory(title="The newspaper report")
    leak = SourceFactory(title="The leaked memo", is_primary=True)
    Provenance.objects.create(source=article, based_on=report, note="cites")
    Provenance.objects.create(source=report, based_on=leak, note="obtained")
    citation = CitationFactory(source=article, role="appearance")
    sign_in_editor(browser, live_server)

    browser.get(f"{live_server}/admin/claims/claim/{citation.claim_id}/change/")
    inline = browser.find_element(By.ID, "citations-0")
    steps = inline.find_element(By.CSS_SELECTOR, "select[aria-label='Next step of the path']")
    # The cited source's links, then the links of the source reached.
    WebDriverWait(browser, 10).until(lambda _: not steps.get_property("disabled"))
    Select(steps).select_by_visible_text(f"The newspaper report ({report.pk}): cites")
    WebDriverWait(browser, 10).until(
        lambda _: any("The leaked memo" in o.text for o in Select(steps).options)
    )
    Select(steps).select_by_visible_text(f"The leaked memo ({leak.pk}): obtained")
    path = inline.find_element(By.NAME, "citations-0-path")
    assert path.get_property("value") == f"{report.pk}>{leak.pk}"
    WebDriverWait(browser, 10).until(
        lambda _: "based on no other source" in Select(steps).options[0].text
    )
    browser.find_element(By.NAME, "_save").click()
    wait_for(browser, ".messagelist .success")

    assert [s.link.based_on_id for s in citation.steps.all()] == [report.pk, leak.pk]


def test_a_reader_searches_opens_a_claim_and_follows_it_to_a_primary_source(
    browser: WebDriver, live_server: object
) -> None:
    call_command("load_demo")

    browser.get(f"{live_server}/")
    search = browser.find_element(By.ID, "q")
    search.send_keys("harsh")
    browser.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
    # The home page lists claims too: wait for the results page before clicking one.
    WebDriverWait(browser, 10).until(ec.url_contains("q=harsh"))
    results = wait_for(browser, ".count")
    assert "1 claim matching “harsh”" in results.text
    # 1: the search result
    wait_for(browser, ".claim-card__text a").click()
    WebDriverWait(browser, 10).until(ec.url_contains("/claims/"))
    assert "We must be as harsh as them" in wait_for(browser, "blockquote").text
    # 2: a citation's chain, down to a primary source
    chain = browser.find_element(By.CSS_SELECTOR, ".chain")
    primary = chain.find_element(By.CSS_SELECTOR, ".node--primary a")
    title = primary.text
    primary.click()
    # 3: the primary source's own page
    WebDriverWait(browser, 10).until(ec.url_contains("/sources/"))
    heading = wait_for(browser, "h1").text
    assert heading == title
    assert "primary source" in browser.find_element(By.CSS_SELECTOR, ".kicker").text


def test_a_draft_stays_invisible_on_the_pages(browser: WebDriver, live_server: object) -> None:
    call_command("load_demo")
    draft = Claim.objects.get(state=State.DRAFT)

    browser.get(f"{live_server}/")
    assert draft.text[:40] not in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{live_server}/?q=Fox")
    assert draft.text[:40] not in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{live_server}/claims/{draft.pk}/")
    assert "Not Found" in browser.page_source


@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("phone", 390)])
def test_claim_page_screenshots(
    browser: WebDriver, live_server: object, name: str, width: int
) -> None:
    call_command("load_demo")
    claim = Claim.objects.get(text__startswith="In these forced labor camps")
    ARTIFACTS.mkdir(exist_ok=True)

    browser.set_window_size(width, 1000)
    browser.get(f"{live_server}/claims/{claim.pk}/")
    # Nothing wider than the window: readable on a phone without sideways scrolling.
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, height)
    path = ARTIFACTS / f"claim-page-{name}.png"
    browser.save_screenshot(str(path))
    browser.set_window_size(1280, 1000)

    assert path.stat().st_size > 10_000
    assert overflow <= 0


def csp_violations(browser: WebDriver) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def test_every_page_works_under_the_content_security_policy(
    browser: WebDriver, live_server: object
) -> None:
    call_command("load_demo")
    editor = User.objects.create_user("csp-editor", password="a long test password", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    claim = Claim.objects.filter(state=State.PUBLISHED).order_by("pk").first()
    assert claim is not None
    csp_violations(browser)  # forget what earlier tests logged

    browser.get(f"{live_server}/api/docs/")
    # Swagger UI's own script fetched the schema and drew the operations.
    wait_for(browser, ".opblock-summary")
    for path in ("/", f"/claims/{claim.pk}/", "/admin/login/"):
        browser.get(f"{live_server}{path}")
        wait_for(browser, "body")
    browser.find_element(By.NAME, "username").send_keys("csp-editor")
    browser.find_element(By.NAME, "password").send_keys("a long test password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda driver: "/login/" not in driver.current_url)
    browser.get(f"{live_server}/admin/claims/claim/add/")
    first = wait_for(browser, "#citations-0")
    choose_autocomplete(browser, first, "Associated Press report")

    assert csp_violations(browser) == []


@pytest.fixture(scope="module")
def axe() -> str:
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the accessibility audit, but axe-core is missing: npm ci")
        pytest.skip("axe-core is not installed: npm ci")
    return AXE.read_text(encoding="utf-8")


def axe_violations(browser: WebDriver, axe: str) -> list[str]:
    """Every axe-core rule the page breaks (WCAG 2.x A and AA, and best practice), as
    "rule (impact): elements"."""
    browser.set_script_timeout(60)
    browser.execute_script(axe)  # WebDriver's scripts are not bound by the page's CSP
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v =>"
        " v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))"
        ".catch(e => done(['axe failed: ' + e]));"
    )
    return list(found)


def reading_pages() -> dict[str, str]:
    """A path of each kind of reading page, on the demo."""

    ap_claim = Claim.objects.get(text__startswith="In these forced labor camps")
    rated = Claim.objects.filter(state=State.PUBLISHED, rating="unsupported").order_by("pk")[0]
    article = Source.objects.filter(provenance_links__isnull=False, derived_links__isnull=True)[0]
    cruz = Claim.objects.filter(claimant__name="Ted Cruz")[0].claimant
    assert cruz is not None
    # A publisher that also makes claims: its reliability and its tally of claims.
    publisher = Claim.objects.filter(claimant__kind="organization", state=State.PUBLISHED)[0]
    assert publisher.claimant is not None
    return {
        "home": "/",
        "search-empty": "/?q=zebras&rating=false",
        "filter-error": "/?made_after=31-12-2018",
        "claim": f"/claims/{ap_claim.pk}/",
        "claim-rated": f"/claims/{rated.pk}/",
        "source": f"/sources/{article.pk}/",
        "person": f"/people/{cruz.pk}/",
        "publisher": f"/people/{publisher.claimant.pk}/",
        "ratings": "/ratings/",
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_every_reading_page_passes_the_axe_audit(
    browser: WebDriver, live_server: object, axe: str, width: int
) -> None:
    call_command("load_demo")
    browser.set_window_size(width, 900)
    found = {}
    for name, path in reading_pages().items():
        browser.get(f"{live_server}{path}")
        wait_for(browser, "main")
        found[name] = axe_violations(browser, axe)
    browser.set_window_size(1280, 1000)

    assert found == {name: [] for name in found}


def test_the_admin_forms_pass_the_axe_audit(
    browser: WebDriver, live_server: object, axe: str
) -> None:
    """Django's autocomplete widgets and tabular inlines are named by our admin script
    (static/admin/claimtrail/a11y.js); without it axe finds 1 critical, 3 serious and 1
    minor rule broken on the claim form."""

    call_command("load_demo")
    claim = Claim.objects.get(text__startswith="In these forced labor camps")
    article = Source.objects.filter(provenance_links__isnull=False, derived_links__isnull=True)[0]
    sign_in_editor(browser, live_server)

    found = {}
    for path in (
        "/admin/claims/claim/add/",
        f"/admin/claims/claim/{claim.pk}/change/",
        "/admin/claims/citation/add/",
        f"/admin/sources/source/{article.pk}/change/",
    ):
        browser.get(f"{live_server}{path}")
        # Named by our script once select2 has drawn the widgets.
        named = ".select2-search__field[aria-label], .select2-selection__rendered[aria-label]"
        WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, named)))
        found[path] = axe_violations(browser, axe)

    assert found == {path: [] for path in found}


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 800), ("phone", 390, 844)])
def test_a_claim_shows_claim_claimant_date_and_verdict_on_the_first_screen(
    browser: WebDriver, live_server: object, name: str, width: int, height: int
) -> None:
    call_command("load_demo")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(width, height)
    for page, path in reading_pages().items():
        browser.get(f"{live_server}{path}")
        wait_for(browser, "main")
        browser.save_screenshot(str(ARTIFACTS / f"{page}-{name}.png"))
        if page.startswith("claim"):
            screen = browser.execute_script("return window.innerHeight")
            for part in (".claim__text", ".claim__byline", ".claim__when", ".verdict"):
                bottom = browser.execute_script(
                    "return document.querySelector(arguments[0]).getBoundingClientRect().bottom",
                    part,
                )
                assert bottom <= screen, (page, part, bottom, screen)
    browser.set_window_size(1280, 1000)


def sign_in_editor(browser: WebDriver, live_server: object) -> User:
    """Sign the browser in to the admin as a new member of the Editors group."""
    editor = User.objects.create_user("e2e-editor", password="a long test password", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    browser.get(f"{live_server}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("e2e-editor")
    browser.find_element(By.NAME, "password").send_keys("a long test password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda driver: "/login/" not in driver.current_url)
    return editor


def serious(found: list[str]) -> list[str]:
    return [v for v in found if "(critical)" in v or "(serious)" in v]


def test_the_admin_with_an_autocomplete_open_and_on_a_phone_passes_axe(
    browser: WebDriver, live_server: object, axe: str, tmp_path: Path
) -> None:
    from sources.models import Person

    call_command("load_demo")
    sign_in_editor(browser, live_server)
    publisher = Person.objects.filter(kind="organization", published_sources__isnull=False)[0]
    found: dict[str, list[str]] = {}

    # An autocomplete open, its search box focused, as an editor picking a source sees it.
    browser.get(f"{live_server}/admin/claims/citation/add/")
    source = wait_for(browser, ".field-source .select2-selection")
    source.click()
    wait_for(browser, ".select2-container--open .select2-search__field").send_keys("a")
    wait_for(browser, ".select2-results__option")
    found["citation form, source autocomplete open"] = axe_violations(browser, axe)

    # Import rows with errors, as the preview shows them.
    bad = tmp_path / "claims.csv"
    bad.write_text("id,text,rating,state\n,A claim.,bogus,draft\n,,unreviewed,draft\n")
    browser.get(f"{live_server}/admin/claims/claim/import/")
    browser.find_element(By.NAME, "import_file").send_keys(str(bad))
    formats = browser.find_elements(By.CSS_SELECTOR, "select[name=format]")
    if formats:  # one format only: a hidden input
        Select(formats[0]).select_by_index(1)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, ".errorlist, .import-preview, .validation-error-container")
    found["import preview with row errors"] = axe_violations(browser, axe)

    pages = {
        "claim list": "/admin/claims/claim/",
        "publisher": f"/admin/sources/person/{publisher.pk}/change/",
        "API docs": "/api/docs/",
    }
    for name, path in pages.items():
        browser.get(f"{live_server}{path}")
        wait_for(browser, "body")
        if name == "API docs":
            wait_for(browser, ".swagger-ui .opblock")
        found[name] = axe_violations(browser, axe)

    browser.set_window_size(390, 844)
    try:
        for name, path in {
            "claim list, phone": "/admin/claims/claim/",
            "source form, phone": "/admin/sources/source/add/",
        }.items():
            browser.get(f"{live_server}{path}")
            wait_for(browser, "#content")
            found[name] = axe_violations(browser, axe)
    finally:
        browser.set_window_size(1280, 1000)

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-admin.json").write_text(json.dumps(found, indent=2))
    assert {name: serious(v) for name, v in found.items()} == {name: [] for name in found}


def test_the_claim_list_fits_a_laptop_screen_a_claim_a_line_or_two(
    browser: WebDriver, live_server: object
) -> None:
    call_command("load_demo")
    sign_in_editor(browser, live_server)
    browser.set_window_size(1280, 900)
    browser.get(f"{live_server}/admin/claims/claim/")
    wait_for(browser, "#result_list")

    # The list scrolls sideways inside its box when it does not fit.
    table, area = browser.execute_script(
        "const box = document.querySelector('#result_list').parentElement;"
        " return [box.scrollWidth, box.clientWidth]"
    )
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#result_list tbody tr'))"
        ".map(r => r.getBoundingClientRect().height)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "admin-claim-list-1280.png"))

    assert table <= area + 1, f"the list is {table:.0f} px wide in {area:.0f} px"
    assert rows
    assert max(rows) <= 60, f"rows up to {max(rows):.0f} px tall"


def test_two_editors_on_one_citation_in_a_real_browser_lose_nothing(
    browser: WebDriver, live_server: object
) -> None:
    from django.test import Client

    from claims.models import Citation
    from tests.factories import CitationFactory, EditorFactory
    from tests.forms import form_data

    citation = CitationFactory(quote="The quote as first read.", locator="p. 1")
    sign_in_editor(browser, live_server)
    url = f"/admin/claims/citation/{citation.pk}/change/"
    browser.get(f"{live_server}{url}")
    quote = wait_for(browser, "#id_quote")

    bea = Client()  # the second editor, signed in, saves first
    bea.force_login(EditorFactory(username="bea"))
    page = form_data(bea.get(url), "citation_form")
    page["locator"] = "p. 9"
    assert bea.post(url, page).status_code == 302

    quote.clear()
    quote.send_keys("The quote as corrected by Ann.")
    browser.find_element(By.NAME, "_save").click()
    note = wait_for(browser, ".errorlist.nonfield, .errornote")
    assert "bea saved this citation while you were editing it" in browser.page_source
    assert browser.find_element(By.ID, "id_locator").get_attribute("value") == "p. 9"
    assert browser.find_element(By.ID, "id_quote").get_attribute("value") == (
        "The quote as corrected by Ann."
    )
    assert note.is_displayed()
    browser.find_element(By.NAME, "_save").click()
    WebDriverWait(browser, 10).until(lambda driver: "/change/" not in driver.current_url)

    citation = Citation.objects.get(pk=citation.pk)
    assert (citation.quote, citation.locator) == ("The quote as corrected by Ann.", "p. 9")


def test_an_editor_takes_the_captured_page_s_suggestions_with_one_click_each(
    browser: WebDriver, live_server: object, axe: str
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from sources.services import add_snapshot
    from tests.factories import OrganizationFactory
    from tests.pages import ARTICLE

    times = OrganizationFactory(name="The Example Times")
    source = SourceFactory(title="Typed by the editor", publisher=None)
    add_snapshot(
        source=source,
        upload=SimpleUploadedFile("page.html", ARTICLE),
        captured_at=timezone.now(),
        user=None,
    )
    sign_in_editor(browser, live_server)
    browser.get(f"{live_server}/admin/sources/source/{source.pk}/change/")
    named = ".select2-selection__rendered[aria-label]"
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, named)))
    assert axe_violations(browser, axe) == []

    browser.find_element(By.CSS_SELECTOR, "button[data-suggest-for='id_title']").click()
    browser.find_element(By.CSS_SELECTOR, "button[data-suggest-for='id_publisher']").click()
    assert browser.find_element(By.ID, "id_title").get_property("value") == (
        "Leaked files detail camp rules"
    )
    assert Select(browser.find_element(By.ID, "id_publisher")).first_selected_option.text == (
        "The Example Times"
    )
    # An author not yet known is added by the click, and chosen.
    browser.find_element(By.CSS_SELECTOR, "button[data-suggest-for='id_authors']").click()
    WebDriverWait(browser, 10).until(
        lambda _: (
            [o.text for o in Select(browser.find_element(By.ID, "id_authors")).all_selected_options]
            == ["A Reporter"]
        )
    )
    # Nothing of the source is written until the editor saves.
    source.refresh_from_db()
    assert source.title == "Typed by the editor"
    browser.find_element(By.NAME, "_save").click()
    wait_for(browser, ".messagelist .success")

    source.refresh_from_db()
    assert (source.title, source.publisher) == ("Leaked files detail camp rules", times)
    assert [author.name for author in source.authors.all()] == ["A Reporter"]


def test_the_editors_desk_shows_what_is_theirs_and_each_count_opens_the_right_list(
    browser: WebDriver, live_server: object, axe: str
) -> None:
    """As a new editor would try it: the front page's desk, each count clicked, and the
    pages it leads to (a claim in review with its notes and sign-off) audited by axe."""
    from claims.models import ClaimNote
    from claims.notes import post_note
    from tests.factories import ClaimFactory

    editor = sign_in_editor(browser, live_server)
    other = User.objects.create_user("e2e-other", is_staff=True)
    ClaimFactory.create_batch(2, state=State.RESEARCHING, assignee=editor)
    mine = ClaimFactory(state=State.IN_REVIEW, assignee=editor, text="Mine, in review.")
    theirs = ClaimFactory(state=State.IN_REVIEW, assignee=other, reviewer=editor)
    theirs.history.update(history_user=other)
    post_note(ClaimNote(claim=mine, text="@e2e-editor please check the count."), author=other)

    browser.get(f"{live_server}/admin/")
    desk = wait_for(browser, ".editor-desk")
    links = {
        link.text: link.get_attribute("href")
        for link in desk.find_elements(By.CSS_SELECTOR, "li a")
        if link.text[:1].isdigit()  # the counts (the rest: the account's own pages)
    }
    assert {text for text in links if not text.startswith("0 ")} == {
        "2 researching",
        "1 in review",
        "1 in review, for you to sign off",
        "1 claims whose notes mention you",
    }
    assert axe_violations(browser, axe) == []

    for text, href in links.items():
        browser.get(href)
        rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == int(text.split(" ", 1)[0]), (text, href)
    browser.get(links["1 in review, for you to sign off"])
    assert theirs.text[:20] in browser.find_element(By.ID, "result_list").text

    # The claim to sign off: its sign-off button and notes, accessible.
    browser.get(f"{live_server}/admin/claims/claim/{theirs.pk}/change/")
    wait_for(browser, ".claim-notes")
    assert browser.find_element(By.NAME, "seen").text == "Sign off this verdict"
    assert serious(axe_violations(browser, axe)) == []
    browser.get(f"{live_server}/admin/claims/claim/{mine.pk}/change/")
    assert "please check the count" in wait_for(browser, ".note-thread").text
    assert serious(axe_violations(browser, axe)) == []
    browser.get(f"{live_server}/admin/two-factor/")
    wait_for(browser, ".qr svg")
    assert axe_violations(browser, axe) == []


def test_an_editor_adds_a_security_key_and_signs_in_with_it(
    browser: WebDriver, live_server: object, axe: str
) -> None:
    """A security key through the browser's own WebAuthn (Chrome's virtual authenticator,
    a key that always says yes): added on the two-factor page, then asked for after the
    password at the next sign-in; both pages audited by axe."""
    from django_otp_webauthn.models import WebAuthnCredential

    editor = sign_in_editor(browser, live_server)
    csp_violations(browser)  # read (and so cleared): what earlier pages logged
    browser.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    authenticator = browser.execute_cdp_cmd(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    try:
        browser.get(f"{live_server}/admin/two-factor/")
        wait_for(browser, "#passkey-register-button").click()
        codes = wait_for(browser, ".recovery-codes")  # the page reloads with the new key
        assert len(codes.find_elements(By.TAG_NAME, "li")) == 10
        assert WebAuthnCredential.objects.filter(user=editor).count() == 1
        assert csp_violations(browser) == []  # before axe, whose own styles it would log
        assert axe_violations(browser, axe) == []

        browser.delete_all_cookies()
        browser.get(f"{live_server}/admin/login/?next=/admin/claims/claim/")
        browser.find_element(By.NAME, "username").send_keys("e2e-editor")
        browser.find_element(By.NAME, "password").send_keys("a long test password")
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        assert "Now use your security key" in wait_for(browser, ".errornote").text
        assert csp_violations(browser) == []
        assert axe_violations(browser, axe) == []
        csp_violations(browser)
        wait_for(browser, "#passkey-verification-button").click()
        WebDriverWait(browser, 10).until(
            lambda driver: driver.current_url.endswith("/admin/claims/claim/")
        )
        assert browser.find_element(By.ID, "changelist")
        assert csp_violations(browser) == []
    finally:
        browser.execute_cdp_cmd(
            "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator}
        )
        browser.execute_cdp_cmd("WebAuthn.disable", {})

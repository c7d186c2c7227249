"""The app in a real browser: a first-time user draws on the sketchpad without clicking any tool, and reads the answer."""
import math
import os
import re
import socket
import time
from pathlib import Path

import pytest

import app

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = os.environ.get("APP_SCREENSHOTS")  # a folder to save each test's page in, for a human to look at

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")

# Each digit as pen strokes in [0, 1] coordinates of a square the canvas's height (x right, y down), drawn as plain
# polylines; a single digit is drawn in the middle of the canvas.
OVAL = [(0.5 + 0.22 * math.sin(2 * math.pi * t / 16), 0.5 - 0.32 * math.cos(2 * math.pi * t / 16)) for t in range(17)]
STROKES = {
    "0": [OVAL],
    "1": [[(0.5, 0.16), (0.5, 0.84)]],
    "4": [[(0.56, 0.16), (0.26, 0.6), (0.74, 0.6)], [(0.6, 0.36), (0.6, 0.86)]],
    "7": [[(0.27, 0.2), (0.73, 0.2), (0.44, 0.84)]],
    "9": [[(0.68, 0.3), (0.5, 0.16), (0.32, 0.3), (0.4, 0.46), (0.62, 0.44), (0.68, 0.3), (0.62, 0.86)]],
    "5": [[(0.66, 0.18), (0.36, 0.18), (0.33, 0.46), (0.58, 0.44), (0.68, 0.64), (0.56, 0.84), (0.3, 0.8)]],
    "2": [[(0.3, 0.3), (0.4, 0.18), (0.6, 0.18), (0.68, 0.32), (0.62, 0.48), (0.3, 0.84), (0.72, 0.84)]],
}

# Shapes strangers draw first on a public link: each must be answered "not a digit", never a confident digit.
NOT_DIGITS = {
    "A": [[(0.28, 0.84), (0.5, 0.16), (0.72, 0.84)], [(0.36, 0.58), (0.64, 0.58)]],
    "smiley": [
        [(0.5 + 0.32 * math.cos(2 * math.pi * t / 24), 0.5 + 0.32 * math.sin(2 * math.pi * t / 24)) for t in range(25)],
        [(0.4, 0.4), (0.4, 0.43)],
        [(0.6, 0.4), (0.6, 0.43)],
        [(0.36, 0.58), (0.43, 0.66), (0.5, 0.68), (0.57, 0.66), (0.64, 0.58)],
    ],
    "arrow": [[(0.15, 0.66), (0.85, 0.34)], [(0.66, 0.3), (0.85, 0.34), (0.74, 0.5)]],  # lying flat: no slanted 1
    "question mark": [  # its dot tapped with the pen, as on a phone: the hook alone is a 7 to the model
        [(0.5 + 0.16 * math.cos(math.radians(a)), 0.32 + 0.14 * math.sin(math.radians(a))) for a in range(180, 406, 15)]
        + [(0.5, 0.62)],
        [(0.5, 0.78), (0.502, 0.782)],
    ],
}


def in_a_row(*digits: str) -> list[list[tuple[float, float]]]:
    """The digits' strokes side by side across the canvas (which is twice as wide as high), left to right."""
    width = min(1.0, 1.9 / len(digits))
    start = (app.sketchpad.canvas_size[0] / app.sketchpad.canvas_size[1] - width * len(digits)) / 2
    return [
        [(start + (i + x) * width, 0.5 + (y - 0.5) * width) for x, y in stroke]
        for i, d in enumerate(digits)
        for stroke in STROKES[d]
    ]


def underlined(strokes: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """The strokes with a level line drawn under them, running on past them at both ends."""
    xs = [x for stroke in strokes for x, _ in stroke]
    bottom = max(y for stroke in strokes for _, y in stroke)
    past = 0.15 * (max(xs) - min(xs)) + 0.05
    return strokes + [[(min(xs) - past, bottom + 0.04), (max(xs) + past, bottom + 0.04)]]


def answer_text(outputs) -> str:
    """What the page shows as the answer: the number (or why there is none), else the Label's top line."""
    number = re.sub("<[^>]+>", "", outputs[0]).strip()
    if number:
        return number
    label = outputs[1]["value"] if isinstance(outputs[1], dict) and "__type__" in outputs[1] else outputs[1]
    return label if isinstance(label, str) else max(label, key=label.get)


SHOWN_JS = """() => (document.querySelector('#number')?.innerText.trim()
    || document.querySelector('#prediction [data-testid="label-output-value"]')?.innerText.trim())"""


@pytest.fixture(scope="module")
def answers():
    """The app's answers to the sketchpad, in order, recorded on the server (the top label or the no-digit message).

    The page shows an answer for every stroke; knowing how many the server has sent lets a test wait for the
    answer to its last stroke instead of reading an earlier one."""
    sent: list[str] = []
    event = next(fn for fn in app.demo.fns.values() if fn.inputs == [app.sketchpad])
    original = event.fn

    def recorded(value):
        result = original(value)
        sent.append(answer_text(result))
        return result

    event.fn = recorded
    yield sent
    event.fn = original


@pytest.fixture(scope="module")
def url(answers):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, max_file_size=app.MAX_FILE_SIZE, quiet=True, css=app.CSS
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, url, request):
    phone = getattr(request, "param", None) == "phone"
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, has_touch=phone, is_mobile=phone)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    page.wait_for_selector("#sketchpad canvas")
    yield page
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{request.node.name}.png"), full_page=True)
    context.close()


def wait_for_answer(page, answers: list[str], count: int) -> str:
    """Wait until the server has sent `count` sketchpad answers and the page shows the last; return the page's text."""
    deadline = time.monotonic() + 20
    while len(answers) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"the app sent {len(answers)} answers; expected {count} (did the strokes land on the canvas?)")
        page.wait_for_timeout(50)
    page.wait_for_function(f"text => ({SHOWN_JS})() === text", arg=answers[-1])
    return page.evaluate(SHOWN_JS)


def clear(page, answers: list[str]) -> str:
    """Clear the canvas and wait for the page's answer to that, so that it is not taken for the next stroke's."""
    before = len(answers)
    page.locator('#sketchpad button[aria-label="Clear canvas"]').click()
    return wait_for_answer(page, answers, before + 1)


def draw(page, answers: list[str], strokes: list[list[tuple[float, float]]], finger: bool = False) -> str:
    """Draw with the mouse (or a finger), stroke by stroke, on the visible drawing area; return the answer shown at the end.

    Like a person, it lifts the pen between strokes; it waits for each stroke's answer before the next stroke."""
    touch = page.context.new_cdp_session(page) if finger else None
    box = page.locator("#sketchpad canvas").first.bounding_box()
    zoom = float(page.locator("#sketchpad .zoom-number").inner_text().strip().rstrip("%")) / 100
    width, side = (n * zoom for n in app.sketchpad.canvas_size)  # the canvas as displayed, centred in the component
    left = box["x"] + (box["width"] - width) / 2
    top = box["y"] + (box["height"] - side) / 2
    if all(x <= 1 for stroke in strokes for x, _ in stroke):  # one digit: in the middle
        left += (width - side) / 2
    shown = ""
    for stroke in strokes:
        before = len(answers)
        points = [(left + x * side, top + y * side) for x, y in stroke]
        if touch:  # playwright has no touch drag: send the touch events through the DevTools protocol
            for kind, (x, y) in [("touchStart", points[0])] + [("touchMove", p) for p in points[1:]]:
                touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        else:
            page.mouse.move(*points[0])
            page.mouse.down()
            for point in points[1:]:
                page.mouse.move(*point)  # the brush draws straight segments between points
            page.mouse.up()
        shown = wait_for_answer(page, answers, before + 1)
    return shown


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_first_strokes_draw_without_choosing_a_tool_and_are_read(page, answers, digit):
    page.locator('#sketchpad button[aria-label="Brush"].highlight').wait_for()  # the app chose the brush by itself
    assert page.get_by_text("select the draw tool to start").count() == 0
    assert draw(page, answers, STROKES[digit]) == digit
    bars = page.locator('#prediction [data-testid$="-confidence-set"]')
    assert bars.count() == 10  # every class is listed
    assert bars.first.get_attribute("data-testid") == f"{digit}-confidence-set"
    page.locator("#model-input img").wait_for()  # what the model saw is shown beside the answer


def test_numbers_are_read_with_a_box_on_each_digit(page, answers):
    assert draw(page, answers, in_a_row("4", "2")) == "42"  # the 4 in two strokes is one digit
    page.locator("#boxes img").first.wait_for()  # the picture with a box on each digit
    page.locator("#pieces img").nth(1).wait_for()  # and each digit as the model saw it
    assert page.locator("#prediction").is_hidden()  # the ten probabilities are for one digit
    clear(page, answers)
    assert draw(page, answers, in_a_row("1", "9", "7", "5")) == "1975"


def test_an_underlined_digit_and_number_are_read_without_the_line(page, answers):
    """People underline a digit to tell it apart (a 9 from a 6, a 7 from a 1), or a number to set it off: the line
    is no digit. A tall 1 over its line is no rule through the writing."""
    for digit in "0179":
        assert draw(page, answers, underlined(STROKES[digit])) == digit
        clear(page, answers)
    assert draw(page, answers, underlined(in_a_row("4", "2"))) == "42"


@pytest.mark.parametrize("shape", sorted(NOT_DIGITS))
def test_letters_and_doodles_are_not_a_digit_and_a_seven_still_reads(page, answers, shape):
    assert draw(page, answers, NOT_DIGITS[shape]) == "not a digit"
    clear(page, answers)
    assert draw(page, answers, STROKES["7"]) == "7"


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_finger_drawing_on_a_phone_is_read(page, answers):
    page.locator('#sketchpad button[aria-label="Brush"].highlight').wait_for()
    box = page.locator("#sketchpad canvas").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the canvas fits the phone's width
    assert draw(page, answers, STROKES["7"], finger=True) == "7"


def test_cleared_canvas_says_no_digit_and_draws_again(page, answers):
    assert draw(page, answers, STROKES["1"]) == "1"
    assert clear(page, answers) == app.NO_DIGIT
    assert draw(page, answers, STROKES["7"]) == "7"  # the brush is still selected after clearing


def test_bad_upload_shows_its_reason_and_the_page_stays_usable(page, tmp_path):
    bad = tmp_path / "photo.png"
    bad.write_text("not a picture")
    page.get_by_role("tab", name="Upload a picture").click()
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    toast = page.locator('[data-testid="toast-body"]')
    toast.first.wait_for()
    assert "not an image file" in toast.first.inner_text()
    page.locator("#upload input[type=file]").set_input_files(str(app.EXAMPLES / "three_photo.jpg"))
    page.wait_for_function("() => document.querySelector('#prediction [data-testid=\"label-output-value\"]')?.innerText.trim() === '3'")
    page.locator("#model-input img").wait_for()  # and what the model saw of it


@pytest.fixture
def corrections(tmp_path, monkeypatch):
    from digitcore.store import CorrectionStore

    store = CorrectionStore(tmp_path / "corrections.sqlite")
    monkeypatch.setattr(app, "store", store)
    return store


def test_a_wrong_answer_is_corrected_with_one_click_and_kept(page, answers, corrections):
    assert draw(page, answers, STROKES["7"]) == "7"
    assert "kept by this demo's owner" in page.locator("#correction-notice").inner_text()
    assert page.locator("#correct-which").is_hidden()  # one digit: nothing to pick
    page.locator("#correct-1").click()  # "Wrong? It is a 1"
    page.get_by_text("Saved, thank you: it is 1 (the model said 7).").wait_for()
    (row,) = corrections.rows(pictures=True)
    assert (row.said, row.correct, row.source) == (7, 1, "sketch")
    assert row.picture.startswith(b"\x89PNG") and row.model_input.max() == 255


def test_a_digit_of_a_number_is_corrected_by_picking_it(page, answers, corrections):
    assert draw(page, answers, in_a_row("4", "2")) == "42"
    page.locator("#correct-which input").click()
    page.get_by_role("option", name="digit 2: 2").click()
    page.locator("#correct-not-a-digit").click()
    page.get_by_text("Saved, thank you: digit 2 is not a digit (the model said 2).").wait_for()
    (row,) = corrections.rows()
    assert (row.said, row.correct, row.position) == (2, 10, 1)

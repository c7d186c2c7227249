"""The page under load and its safety settings: `python app.py` as a user starts it, called on localhost."""
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.load import ROOT, client_round_trips, digit_picture, free_port, raw_round_trip, rss_mb, start_app, top_label


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    process, _ = start_app(port)
    try:
        yield f"http://127.0.0.1:{port}/", process, digit_picture(tmp_path_factory.mktemp("load"))
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_binds_loopback_only_by_default(server):
    url, _, _ = server
    port = int(url.rsplit(":", 1)[1].strip("/"))
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for address in addresses:  # the machine's other addresses: nothing listens there
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


def test_fifty_concurrent_requests_are_all_answered_right(server):
    from gradio_client import Client, handle_file

    url, _, picture = server
    clients = [Client(url, verbose=False) for _ in range(50)]
    upload = handle_file(str(picture))
    with ThreadPoolExecutor(50) as pool:
        labels = list(pool.map(lambda c: top_label(c.predict(upload, api_name="/predict")), clients))
    assert labels == ["3"] * 50


def test_memory_stays_flat_over_two_thousand_requests(server):
    url, process, picture = server
    # Each API call is a session of its own, and Gradio keeps the newest 1,000 (state_session_capacity in
    # app.main): about 60 kB each here, so memory climbs for the first 1,000 calls and is flat after.
    warm_up = 1100
    with ThreadPoolExecutor(8) as pool:
        warm = list(pool.map(lambda _: raw_round_trip(url, picture)[1], range(warm_up)))
        before = rss_mb(process.pid)
        labels = list(pool.map(lambda _: raw_round_trip(url, picture)[1], range(2000)))
    after = rss_mb(process.pid)
    assert warm.count("3") == warm_up and labels.count("3") == 2000
    assert after - before < 50, f"{before:.0f} MB -> {after:.0f} MB"


def test_uploaded_files_are_not_kept():
    import app

    assert app.demo.delete_cache is not None
    frequency, age = app.demo.delete_cache
    assert frequency <= 3600 and age <= 3600


def test_the_benchmarks_floor_app_answers_like_the_app(server):
    """benchmarks/echo_app.py has the same /predict as app.py, so its round trip is a fair floor."""
    url, _, picture = server
    port = free_port()
    echo, _ = start_app(port, ROOT / "benchmarks" / "echo_app.py")
    try:
        floor = client_round_trips(f"http://127.0.0.1:{port}/", picture, 2, ssl_verify=False)
    finally:
        echo.terminate()
        echo.wait(timeout=30)
    ours = client_round_trips(url, picture, 2, ssl_verify=False)
    assert [label for _, label in floor] == [label for _, label in ours] == ["3", "3"]

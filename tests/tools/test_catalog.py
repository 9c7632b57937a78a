"""The catalog tools (tools/catalog.py): list_forms, list_perks and find_or_create_products send exactly the
requests Piggy documents (§3.5, §3.9, §3.10, §6) and shape the documented answers; find_or_create_products pages
the catalog only as far as it must and creates only the missing products, in one batch. Bad arguments are refused
before anything reaches Piggy."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from mcp import Client

from tests.conftest import API_KEY
from tests.helpers import anything, assert_get, assert_write, envelope, query, refused, the_request

FORM_1 = "aaaaaaaa-0000-4000-8000-000000000001"
FORM_2 = "aaaaaaaa-0000-4000-8000-000000000002"
PERK = "bbbbbbbb-0000-4000-8000-000000000001"
PRODUCT_1 = "cccccccc-0000-4000-8000-000000000001"
PRODUCT_2 = "cccccccc-0000-4000-8000-000000000002"
PRODUCT_3 = "cccccccc-0000-4000-8000-000000000003"
PRODUCT_OTHER = "cccccccc-0000-4000-8000-0000000000ff"


# list_forms (§3.9) -----------------------------------------------------------------------------------

FORMS = [
    {
        "uuid": FORM_1,
        "name": "Fake sign-up",
        "status": "PUBLISHED",
        "type": "PUBLIC",
        "url": "https://forms.example.test/fake-sign-up",
    },
    {
        "uuid": FORM_2,
        "name": "Fake survey",
        "status": "PUBLISHED",
        "type": "PUBLIC",
        "url": "https://forms.example.test/fake-survey",
    },
]

# As the tool lists them: without the uuid, which no tool takes.
LISTED_FORMS = [{key: value for key, value in form.items() if key != "uuid"} for form in FORMS]


async def test_list_forms_sends_no_filters_when_none_given(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/forms").respond(200, json=envelope(FORMS))

    result = await client.call_tool("list_forms", {})

    assert result.is_error is False
    assert_get(the_request(route), "/forms")
    assert result.structured_content == {"forms": LISTED_FORMS}


async def test_list_forms_passes_status_and_type_as_query(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/forms").respond(200, json=envelope(FORMS))

    result = await client.call_tool("list_forms", {"status": "PUBLISHED", "type": "PUBLIC"})

    assert result.is_error is False
    assert_get(the_request(route), "/forms", [("status", "PUBLISHED"), ("type", "PUBLIC")])
    assert result.structured_content == {"forms": LISTED_FORMS}


async def test_list_forms_passes_only_the_filter_given(client: Client, piggy: respx.MockRouter) -> None:
    route = piggy.get("/forms").respond(200, json=envelope([]))

    result = await client.call_tool("list_forms", {"type": "PRIVATE"})

    assert result.is_error is False
    assert_get(the_request(route), "/forms", [("type", "PRIVATE")])
    assert result.structured_content == {"forms": []}


async def test_list_forms_refuses_an_unknown_status(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)

    result = await client.call_tool("list_forms", {"status": "ARCHIVED"})

    refused(result, "status", "PUBLISHED")
    assert catch.called is False


# list_perks (§3.10) ----------------------------------------------------------------------------------


async def test_list_perks_reads_perks_with_options(client: Client, piggy: respx.MockRouter) -> None:
    perks = [
        {
            "uuid": PERK,
            "label": "Fake free coffee",
            "name": "fake_free_coffee",
            "data_type": "single_select",
            "options": [
                {"label": "None", "value": "none", "default": True},
                {"label": "Daily", "value": "daily", "default": False},
            ],
        }
    ]
    route = piggy.get("/perks").respond(200, json={"data": perks})

    result = await client.call_tool("list_perks", {})

    assert result.is_error is False
    assert_get(the_request(route), "/perks")
    assert result.structured_content == {
        "perks": [
            {
                "name": "fake_free_coffee",
                "label": "Fake free coffee",
                "data_type": "single_select",
                "options": [
                    {"label": "None", "value": "none", "default": True},
                    {"label": "Daily", "value": "daily", "default": False},
                ],
            }
        ]
    }


# find_or_create_products (§3.5, §6) ------------------------------------------------------------------


def product(uuid: str, external_identifier: str, name: str) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "external_identifier": external_identifier,
        "name": name,
        "description": None,
        "categories": [],
    }


def products_catalog(pages: list[list[dict[str, Any]]]) -> Any:
    """A side effect serving GET /products page by page, with style-A meta (§2.4)."""

    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        items = pages[page - 1]
        meta = {
            "page": page,
            "limit": 100,
            "viewing_from": (page - 1) * 100 + 1,
            "viewing_to": (page - 1) * 100 + len(items),
            "last_page": len(pages),
            "total": 100 * (len(pages) - 1) + len(pages[-1]),
        }
        return httpx.Response(200, json=envelope(items, meta))

    return respond


def fillers(count: int) -> list[dict[str, Any]]:
    """Unrelated catalog products, so a page is full (100 items) like a real non-final page."""
    return [product(f"dddddddd-0000-4000-8000-{i:012d}", f"FAKE-OTHER-{i}", f"Other product {i}") for i in range(count)]


async def test_find_or_create_products_stops_paging_when_all_are_found(client: Client, piggy: respx.MockRouter) -> None:
    pages = [
        [*fillers(99), product(PRODUCT_1, "FAKE-SKU-1", "Name in Piggy, SKU 1")],
        [product(PRODUCT_2, "FAKE-SKU-2", "Name in Piggy, SKU 2"), *fillers(99)],
        [product(PRODUCT_OTHER, "FAKE-SKU-9", "Never read")],
    ]
    listing = piggy.get("/products").mock(side_effect=products_catalog(pages))
    batch = piggy.post("/products/batch").respond(200, json=envelope([]))

    result = await client.call_tool(
        "find_or_create_products",
        {
            "products": [
                {"external_identifier": "FAKE-SKU-2", "name": "SKU 2"},
                {"external_identifier": "FAKE-SKU-1", "name": "SKU 1"},
            ]
        },
    )

    assert result.is_error is False
    # Page 2 held the last one wanted: page 3 is never read.
    assert [query(call.request) for call in listing.calls] == [
        [("limit", "100"), ("page", "1")],
        [("limit", "100"), ("page", "2")],
    ]
    for call in listing.calls:
        assert_get(call.request, "/products", query(call.request))
        assert call.request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert batch.called is False
    assert len(piggy.calls) == 2
    assert result.structured_content == {
        "products": [
            {"uuid": PRODUCT_2, "external_identifier": "FAKE-SKU-2", "created": False},
            {"uuid": PRODUCT_1, "external_identifier": "FAKE-SKU-1", "created": False},
        ]
    }


async def test_find_or_create_products_creates_only_the_missing_in_one_batch(
    client: Client, piggy: respx.MockRouter
) -> None:
    pages = [
        [*fillers(99), product(PRODUCT_1, "FAKE-SKU-1", "Name in Piggy, SKU 1")],
        fillers(3),
    ]
    listing = piggy.get("/products").mock(side_effect=products_catalog(pages))
    batch = piggy.post("/products/batch").respond(
        200,
        json=envelope(
            [
                product(PRODUCT_2, "FAKE-SKU-2", "SKU 2"),
                {**product(PRODUCT_3, "FAKE-SKU-3", "SKU 3"), "description": "Fake description"},
            ]
        ),
    )

    result = await client.call_tool(
        "find_or_create_products",
        {
            "products": [
                {"external_identifier": "FAKE-SKU-2", "name": "SKU 2"},
                {"external_identifier": "FAKE-SKU-1", "name": "SKU 1"},
                {"external_identifier": "FAKE-SKU-3", "name": "SKU 3", "description": "Fake description"},
            ]
        },
    )

    assert result.is_error is False
    # Paged to the last page per meta.last_page (2), and no further.
    assert [query(call.request) for call in listing.calls] == [
        [("limit", "100"), ("page", "1")],
        [("limit", "100"), ("page", "2")],
    ]
    assert_write(
        the_request(batch),
        "POST",
        "/products/batch",
        {
            "products": [
                {"external_identifier": "FAKE-SKU-2", "name": "SKU 2"},
                {"external_identifier": "FAKE-SKU-3", "name": "SKU 3", "description": "Fake description"},
            ]
        },
    )
    assert len(piggy.calls) == 3
    assert result.structured_content == {
        "products": [
            {"uuid": PRODUCT_2, "external_identifier": "FAKE-SKU-2", "created": True},
            {"uuid": PRODUCT_1, "external_identifier": "FAKE-SKU-1", "created": False},
            {"uuid": PRODUCT_3, "external_identifier": "FAKE-SKU-3", "created": True},
        ]
    }


async def test_find_or_create_products_refuses_more_than_100(client: Client, piggy: respx.MockRouter) -> None:
    catch = anything(piggy)
    products = [{"external_identifier": f"FAKE-SKU-{i}", "name": f"SKU {i}"} for i in range(101)]

    result = await client.call_tool("find_or_create_products", {"products": products})

    refused(result, "products", "at most 100")
    assert catch.called is False

"""The agent path: `explorer mcp` served over stdio and asked by the MCP SDK's own client, every answer checked
against the library; bad arguments come back as tool errors, and the server keeps answering."""

import asyncio
import os
import sys

import numpy as np
import pytest


def _ask(workspace_path, calls):
    """Start `python -m explorer mcp WORKSPACE` and make ``calls`` [(tool, arguments)], returning the results."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    server = StdioServerParameters(command=sys.executable, args=["-m", "explorer", "mcp", str(workspace_path)],
                                   env={**os.environ})

    async def run():
        async with Client(server) as client:
            tools = await client.list_tools()
            return tools, [await client.call_tool(name, arguments) for name, arguments in calls]

    return asyncio.run(run())


def test_the_tools_answer_as_the_library_does_and_refuse_bad_arguments(small_workspace):
    from explorer import api

    name = small_workspace.path.name
    calls = [("workspaces", {}),
             ("search", {"workspace": name, "query": "ebola outbreak", "k": 5, "mode": "keyword"}),
             ("clusters", {"workspace": name}),
             ("cluster_texts", {"workspace": name, "cluster": 0, "limit": 3}),
             ("neighbours", {"workspace": name, "id": str(small_workspace.points()["id"].iloc[0]), "k": 4}),
             ("duplicates", {"workspace": name, "threshold": 0.9, "limit": 5}),
             ("outliers", {"workspace": name, "top": 3}),
             ("similarity_profile", {"workspace": name}),
             ("label_audit", {"workspace": name, "column": "outlet", "k": 10}),
             ("search", {"workspace": name, "query": "x", "k": 5000}),
             ("search", {"workspace": "elsewhere", "query": "x"}),
             ("search", {"workspace": name, "query": "x" * 3000}),
             ("label_audit", {"workspace": name, "column": "no such column"}),
             ("clusters", {"workspace": name})]
    tools, results = _ask(small_workspace.path, calls)
    assert {tool.name for tool in tools.tools} >= {"search", "neighbours", "clusters", "cluster_texts", "duplicates",
                                                    "outliers", "similarity_profile", "label_audit"}
    answers = [result.structured_content for result in results[:9]]
    assert not any(result.is_error for result in results[:9])
    unwrap = [answer["result"] if isinstance(answer, dict) and set(answer) == {"result"} else answer
              for answer in answers]
    served, found, clusters, texts, near, dupes, outliers, profile, labels = unwrap
    assert served[0]["n_points"] == 400
    expected = api.search(small_workspace, "ebola outbreak", k=5, mode="keyword")
    assert [row["id"] for row in found] == expected["id"].tolist()
    assert [row["size"] for row in clusters] == api.clusters(small_workspace)["size"].tolist()
    labels_of = small_workspace.clustering().clustering.labels
    texts_of = small_workspace.points()["text"].to_numpy()
    assert len(texts) == 3 and all(labels_of[list(texts_of).index(row["text"])] == 0 for row in texts)
    assert [row["id"] for row in near] == api.neighbours(small_workspace, small_workspace.points()["id"].iloc[0],
                                                         k=4)["id"].tolist()
    assert dupes["n_pairs"] == len(api.duplicates(small_workspace, threshold=0.9))
    assert len(outliers) == 3 and 0 <= profile["random_pair_mean"] <= 1 and "accuracy" in str(labels)
    errors = results[9:13]
    assert all(result.is_error for result in errors)
    said = [result.content[0].text for result in errors]
    assert "between 1 and 100" in said[0] and "No workspace 'elsewhere'" in said[1]
    assert "at most 2,000" in said[2] and "no such column" in said[3].lower()
    assert not results[13].is_error  # still answering after the errors
    np.testing.assert_array_equal(sorted(row["cluster"] for row in clusters), sorted(set(labels_of.tolist())))


@pytest.mark.slow
def test_vector_search_over_mcp_embeds_the_query_with_the_workspaces_model(small_workspace):
    from explorer import api

    name = small_workspace.path.name
    _, [result] = _ask(small_workspace.path, [("search", {"workspace": name, "query": "flu vaccine", "k": 5,
                                                          "mode": "vector"})])
    rows = result.structured_content["result"]
    assert [row["id"] for row in rows] == api.search(small_workspace, "flu vaccine", k=5, mode="vector")["id"].tolist()

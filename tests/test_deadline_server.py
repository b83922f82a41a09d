"""The local Deadline Cloud server itself, through a plain boto3 client (no moto needed).

These keep the fake honest: shapes the real client parses, the service's own template
validation, faults, and loud answers for anything it does not implement.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from deadline_server import DeadlineServer

TEMPLATE = {
    "specificationVersion": "jobtemplate-2023-09",
    "name": "Tiny",
    "parameterDefinitions": [{"name": "Frames", "type": "INT", "default": 3, "maxValue": 10}],
    "steps": [
        {
            "name": "Echo",
            "script": {"actions": {"onRun": {"command": "echo", "args": ["{{Param.Frames}}"]}}},
        }
    ],
}


def ids(server: DeadlineServer) -> dict[str, str]:
    return {"farmId": server.state.farm.farm_id, "queueId": server.state.queue.queue_id}


def test_get_queue_and_queue_role_credentials(server: DeadlineServer, client: Any) -> None:
    queue = client.get_queue(**ids(server))
    assert queue["jobAttachmentSettings"] == {
        "s3BucketName": "bucket",
        "rootPrefix": "DeadlineCloud",
    }
    assert isinstance(queue["createdAt"], dt.datetime)
    creds = client.assume_queue_role_for_user(**ids(server))["credentials"]
    assert creds["expiration"] - dt.datetime.now(dt.timezone.utc) >= dt.timedelta(hours=1)
    assert [c.operation for c in server.calls()] == ["GetQueue", "AssumeQueueRoleForUser"]


def test_the_lists_the_submitter_dialog_reads(server: DeadlineServer, client: Any) -> None:
    from deadline_server import StorageProfile
    from deadline_server.service import new_id

    (farm,) = client.list_farms(maxResults=1)["farms"]
    assert farm["farmId"] == server.state.farm.farm_id
    (queue,) = client.list_queues(farmId=farm["farmId"])["queues"]
    assert queue["queueId"] == server.state.queue.queue_id and queue["status"] == "IDLE"
    queue_ids = ids(server)
    assert client.list_storage_profiles_for_queue(**queue_ids)["storageProfiles"] == []
    profile = StorageProfile(
        new_id("sp"), "Linux workstations", "LINUX", [("Projects", "/mnt/projects", "SHARED")]
    )
    server.state.queue.storage_profiles.append(profile)
    try:
        listed = client.list_storage_profiles_for_queue(**queue_ids)["storageProfiles"]
        assert listed == [
            {
                "storageProfileId": profile.storage_profile_id,
                "displayName": "Linux workstations",
                "osFamily": "LINUX",
            }
        ]
        got = client.get_storage_profile_for_queue(
            **queue_ids, storageProfileId=profile.storage_profile_id
        )
        assert got["fileSystemLocations"] == [
            {"name": "Projects", "path": "/mnt/projects", "type": "SHARED"}
        ]
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            client.get_storage_profile_for_queue(**queue_ids, storageProfileId="sp-" + "0" * 32)
    finally:
        server.state.queue.storage_profiles.remove(profile)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client.list_queues(farmId="farm-" + "0" * 32)


def test_create_job_validates_the_template_like_the_service(
    server: DeadlineServer, client: Any
) -> None:
    job = client.create_job(
        **ids(server),
        template=json.dumps(TEMPLATE),
        templateType="JSON",
        priority=50,
        parameters={"Frames": {"int": "7"}},
    )
    got = client.get_job(**ids(server), jobId=job["jobId"])
    assert got["name"] == "Tiny" and got["lifecycleStatus"] == "CREATE_COMPLETE"
    assert server.calls("CreateJob")[0].body["parameters"] == {"Frames": {"int": "7"}}

    with pytest.raises(ClientError) as err:
        client.create_job(
            **ids(server),
            template=json.dumps(TEMPLATE),
            templateType="JSON",
            priority=50,
            parameters={"Frames": {"int": "11"}},
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Frames" in err.value.response["Error"]["Message"]
    broken = dict(TEMPLATE, steps=[])
    with pytest.raises(ClientError, match="ValidationException"):
        client.create_job(
            **ids(server), template=json.dumps(broken), templateType="JSON", priority=50
        )


def _create(client: Any, server: DeadlineServer, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"template": json.dumps(TEMPLATE), "templateType": "JSON"}
    return client.create_job(**ids(server), **{**args, "priority": 50, **extra})  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        # what botocore lets through (it checks only `min`) and the service refuses
        ({"priority": 101}, "priority"),
        ({"maxFailedTasksCount": 2**31}, "maxFailedTasksCount"),
        ({"maxRetriesPerTask": 2**31}, "maxRetriesPerTask"),
        ({"maxWorkerCount": 2**31}, "maxWorkerCount"),
        ({"targetTaskRunStatus": "PAUSED"}, "targetTaskRunStatus"),
        ({"parameters": {"Frames": {"string": "x" * 1025}}}, "parameters.Frames.string"),
        ({"parameters": {f"P{i}": {"int": "1"} for i in range(201)}}, "parameters"),
        ({"template": "#" * 1_000_001, "templateType": "YAML"}, "template"),
    ],
)
def test_create_job_refuses_what_the_service_model_refuses(
    extra: dict[str, Any], field: str, server: DeadlineServer, client: Any
) -> None:
    with pytest.raises(ClientError) as err:
        _create(client, server, **extra)
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert f"{field}:" in error["Message"]
    assert server.state.jobs == {} or all(
        j.request.get("priority") == 50 and "maxWorkerCount" not in j.request
        for j in server.state.jobs.values()
    )
    (call,) = server.calls("CreateJob")
    assert call.error_code == "ValidationException"


def test_create_job_keeps_the_job_properties_get_job_answers_them(
    server: DeadlineServer, client: Any
) -> None:
    properties = {
        "priority": 100,
        "maxFailedTasksCount": 0,
        "maxRetriesPerTask": 0,
        "maxWorkerCount": -1,
        "targetTaskRunStatus": "SUSPENDED",
    }
    job = _create(client, server, parameters={"Note": {"string": "x" * 1024}}, **properties)
    got = client.get_job(**ids(server), jobId=job["jobId"])
    assert {name: got[name] for name in properties} == properties
    assert got["taskRunStatus"] == "SUSPENDED"


def _template_with(count: int) -> dict[str, Any]:
    """TEMPLATE's own Frames plus more, `count` in all."""
    more = [{"name": f"P{i:02d}", "type": "INT", "default": 1} for i in range(count - 1)]
    return dict(TEMPLATE, parameterDefinitions=[*TEMPLATE["parameterDefinitions"], *more])


def test_create_job_counts_parameters_with_the_queue_environments(
    server: DeadlineServer, client: Any
) -> None:
    """The test queue's Conda environment defines CondaPackages and CondaChannels."""
    assert _create(client, server, template=json.dumps(_template_with(48)))
    with pytest.raises(ClientError) as err:
        _create(client, server, template=json.dumps(_template_with(49)))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "51 parameter definitions" in err.value.response["Error"]["Message"]
    # a template parameter that contradicts the queue environment's definition
    clash = dict(TEMPLATE, parameterDefinitions=[{"name": "CondaPackages", "type": "INT"}])
    with pytest.raises(ClientError, match="ValidationException"):
        _create(client, server, template=json.dumps(clash))


def test_faults_and_unknown_resources(server: DeadlineServer, client: Any) -> None:
    server.state.fail("GetQueue", "AccessDeniedException", "no", times=1)
    with pytest.raises(ClientError) as err:
        client.get_queue(**ids(server))
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert client.get_queue(**ids(server))["displayName"]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client.get_queue(farmId="farm-" + "0" * 32, queueId=ids(server)["queueId"])


def test_unimplemented_and_unknown_requests_are_loud(server: DeadlineServer, client: Any) -> None:
    with pytest.raises(ClientError) as err:
        client.list_fleets(farmId=ids(server)["farmId"])
    assert err.value.response["Error"]["Code"] == "NotImplementedByTestServer"
    assert server.unhandled == ["ListFleets"]
    request = urllib.request.Request(f"{server.endpoint_url}/no/such/route", method="GET")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as http:
        opener.open(request, timeout=10)
    assert http.value.code == 404
    assert http.value.headers["X-Amzn-ErrorType"] == "UnknownOperationException"
    assert server.unhandled == ["ListFleets", "GET /no/such/route"]

"""Docker mode's `make down` removes the compose network even when something is still attached to it
(compose alone fails with "has active endpoints"): in a project of the test's own, a container compose
does not own is removed and the network is left with no endpoint. A network the engine refuses to remove
with nothing attached and nothing else of the project left is told apart (the engine's leaked endpoint
count) from one that still has a container."""

import uuid
from collections.abc import Iterator

import docker
import pytest

from stack.docker_mode import release_networks, stale_networks

IMAGE = "python:3.13-slim"  # a stand-in built by tests/standins/build.sh, as compose's base images are


@pytest.fixture
def project() -> Iterator[str]:
    name = f"teardown-probe-{uuid.uuid4().hex[:8]}"
    yield name
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": f"probe={name}"}):
        container.remove(force=True)
    for network in client.networks.list(filters={"label": f"com.docker.compose.project={name}"}):
        network.remove()


def test_what_is_left_on_the_projects_network_is_released(project: str):
    client = docker.from_env()
    network = client.networks.create(f"{project}_default", labels={"com.docker.compose.project": project})
    stray = client.containers.run(
        IMAGE, ["sleep", "300"], detach=True, network=network.name, labels={"probe": project}, name=f"{project}-stray"
    )
    network.reload()
    assert stray.id in network.attrs["Containers"]

    released = release_networks(project)

    assert released == [f"{project}-stray on {network.name}"]
    assert client.containers.list(all=True, filters={"label": f"probe={project}"}) == []
    network.reload()
    assert not network.attrs["Containers"]
    network.remove()  # what compose down could not do


def test_a_project_with_nothing_attached_releases_nothing(project: str):
    client = docker.from_env()
    client.networks.create(f"{project}_default", labels={"com.docker.compose.project": project})
    assert release_networks(project) == []


def test_an_empty_network_with_nothing_else_left_is_the_engines_stale_one(project: str):
    client = docker.from_env()
    network = client.networks.create(f"{project}_default", labels={"com.docker.compose.project": project})
    assert stale_networks(project) == [network.name]


def test_a_network_with_a_container_or_a_container_of_the_project_left_is_not_stale(project: str):
    client = docker.from_env()
    network = client.networks.create(f"{project}_default", labels={"com.docker.compose.project": project})
    attached = client.containers.run(
        IMAGE, ["sleep", "300"], detach=True, network=network.name, labels={"probe": project}, name=f"{project}-on"
    )
    assert stale_networks(project) == []
    attached.remove(force=True)
    client.containers.create(IMAGE, ["true"], labels={"probe": project, "com.docker.compose.project": project})
    assert stale_networks(project) == []  # a stopped container of the project, on no network

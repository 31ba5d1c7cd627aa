"""The ``atoll`` command line; the one place that calls ``asyncio.run``.

Only this module wires the embedded cluster and the Atoll server together.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from atoll.settings import ClusterSettings, ServerSettings, Settings

if TYPE_CHECKING:
    from atoll.kube.kubeconfig import ClusterConfig

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, help="Atoll: a container platform for Kubernetes.")
cluster_app = typer.Typer(
    no_args_is_help=True,
    help="Clusters: the embedded single-node one, and member clusters of a running Atoll.",
)
app.add_typer(cluster_app, name="cluster")
console = Console(stderr=True)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cluster_app.command("serve")
def cluster_serve(
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the cluster keeps its state [data/cluster].")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Listen address [127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port; 0 picks a free one.")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate to serve.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key.")] = None,
    controllers: Annotated[
        str | None,
        typer.Option(help="Controllers to run: '*' all, 'name', '-name' (comma-separated)."),
    ] = None,
    kubelet: Annotated[
        str | None,
        typer.Option(
            help="on: run pods on this machine; off: the node stays NotReady and pods Pending."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the embedded Kubernetes API; write DATA_DIR/kubeconfig once it is ready.

    Defaults come from ATOLL_CLUSTER__* environment variables (see atoll.settings);
    options given here win.
    """
    from atoll.embedded.cluster import DataDirectoryInUse, EmbeddedCluster

    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    if kubelet not in (None, "on", "off"):
        raise typer.BadParameter("--kubelet is on or off")
    _setup_logging(log_level)
    given = {
        "data_dir": data_dir,
        "host": host,
        "port": port,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "controllers": controllers,
        "kubelet": None if kubelet is None else kubelet == "on",
    }
    settings = Settings().cluster.model_copy(
        update={k: v for k, v in given.items() if v is not None}
    )

    async def serve() -> None:
        cluster = EmbeddedCluster(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, cluster.stop)
        task = asyncio.create_task(cluster.run())
        await cluster.until_ready(task)
        if cluster.ready.is_set():  # else it was stopped before it answered
            console.print(f"[green]Embedded cluster ready[/] at {cluster.url}")
            console.print(f"kubeconfig: {cluster.kubeconfig_path}")
            print(cluster.url, flush=True)
        await task

    try:
        _run(serve())
    except DataDirectoryInUse as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None


_SERVER = typer.Option(
    envvar="ATOLL_SERVER", help="The running Atoll [http://127.0.0.1:8080] (ATOLL_SERVER)."
)
_USERNAME = typer.Option(envvar="ATOLL_USERNAME", help="Who logs in [admin] (ATOLL_USERNAME).")
_PASSWORD = typer.Option(
    envvar="ATOLL_PASSWORD", help="The password (ATOLL_PASSWORD); asked for when not given."
)
_TOKEN = typer.Option(envvar="ATOLL_TOKEN", help="An access token instead of a log-in.")


@cluster_app.command("add")
def cluster_add(
    name: Annotated[str, typer.Argument(help="The member cluster's name in Atoll.")],
    kubeconfig: Annotated[Path, typer.Option(help="Its kubeconfig (everything embedded).")],
    server: Annotated[str, _SERVER] = "http://127.0.0.1:8080",
    username: Annotated[str, _USERNAME] = "admin",
    password: Annotated[str | None, _PASSWORD] = None,
    token: Annotated[str | None, _TOKEN] = None,
) -> None:
    """Add a member cluster to a running Atoll (administrators only): Atoll checks the
    kubeconfig by connecting before it keeps anything."""
    from atoll.remote import AtollRemote, RemoteError

    try:
        text = kubeconfig.read_text()
    except OSError as error:
        _usage_error(f"cannot read {kubeconfig}: {error.strerror}")
    remote = AtollRemote(server, username=username, password=password, token=token)
    try:
        added = _run_value(
            remote.post(
                "/kapis/cluster.atoll.io/v1alpha1/clusters", {"name": name, "kubeconfig": text}
            )
        )
    except RemoteError as error:
        console.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from None
    console.print(
        f"[green]Cluster {escape(added['metadata']['name'])} added[/]; Atoll probes it now."
    )


@cluster_app.command("remove")
def cluster_remove(
    name: Annotated[str, typer.Argument(help="The member cluster's name in Atoll.")],
    server: Annotated[str, _SERVER] = "http://127.0.0.1:8080",
    username: Annotated[str, _USERNAME] = "admin",
    password: Annotated[str | None, _PASSWORD] = None,
    token: Annotated[str | None, _TOKEN] = None,
) -> None:
    """Remove a member cluster from a running Atoll (its kubeconfig goes with it)."""
    from atoll.remote import AtollRemote, RemoteError

    remote = AtollRemote(server, username=username, password=password, token=token)
    try:
        _run_value(remote.delete(f"/kapis/cluster.atoll.io/v1alpha1/clusters/{name}"))
    except RemoteError as error:
        console.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]Cluster {escape(name)} removed[/]")


@app.command("up")
def up(
    data_dir: Annotated[
        Path | None, typer.Option(help="Where Atoll keeps its state [data].")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Listen address [127.0.0.1].")] = None,
    port: Annotated[
        int | None, typer.Option(help="Listen port [8080]; 0 picks a free one.")
    ] = None,
    tls_port: Annotated[
        int | None,
        typer.Option(help="HTTPS port for kubectl and API clients [8443]; 0 picks a free one."),
    ] = None,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="A real host cluster; without it, the embedded one.")
    ] = None,
    in_cluster: Annotated[
        bool,
        typer.Option(
            "--in-cluster",
            help="Run in a Pod: the host cluster is the Pod's own, reached with its service "
            "account. The default in a Pod unless --kubeconfig is given.",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Start Atoll: the embedded cluster (unless --kubeconfig or --in-cluster) and Atoll's
    server."""
    from atoll.embedded.cluster import DataDirectoryInUse

    if in_cluster and kubeconfig is not None:
        _usage_error("--in-cluster and --kubeconfig exclude each other: choose one host cluster")
    _setup_logging(log_level)
    root = Settings()
    given = {
        "data_dir": data_dir,
        "host": host,
        "port": port,
        "tls_port": tls_port,
        "kubeconfig": kubeconfig,
    }
    server = root.server.model_copy(update={k: v for k, v in given.items() if v is not None})
    cluster = root.cluster.model_copy(update={"data_dir": server.data_dir / "cluster"})
    host_cluster = _host_cluster(server, in_cluster=in_cluster)
    try:
        password = root.admin_password.get_secret_value() if root.admin_password else None
        _run(_up(server, cluster, password, host_cluster))
    except DataDirectoryInUse as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None


def _usage_error(message: str) -> NoReturn:
    console.print(f"[red]Error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _host_cluster(server: ServerSettings, *, in_cluster: bool) -> ClusterConfig | None:
    """The real host cluster's config; None: start the embedded one.

    In a Pod (``KUBERNETES_SERVICE_HOST`` set and a service-account token mounted), the Pod's
    own cluster is the default, as deploy/ runs it; a kubeconfig still wins there.
    ``--in-cluster`` wins over ``ATOLL_SERVER__KUBECONFIG``, as options win over settings.
    """
    from atoll.kube.kubeconfig import ClusterConfig, KubeconfigError, running_in_pod

    try:
        if in_cluster:
            return ClusterConfig.in_cluster()
        if server.kubeconfig is not None:
            return ClusterConfig.from_kubeconfig(server.kubeconfig)
        if running_in_pod():
            console.print("Running in a Pod: using its service account (in-cluster config)")
            return ClusterConfig.in_cluster()
    except KubeconfigError as error:
        _usage_error(str(error))
    return None


async def _up(
    server: ServerSettings,
    cluster_settings: ClusterSettings,
    admin_password: str | None,
    host_cluster: ClusterConfig | None,
) -> None:
    from atoll.embedded.cluster import EmbeddedCluster
    from atoll.kube.kubeconfig import ClusterConfig
    from atoll.server.running import serve_atoll

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cluster = EmbeddedCluster(cluster_settings) if host_cluster is None else None
    cluster_task = asyncio.create_task(cluster.run()) if cluster is not None else None
    try:
        if cluster is not None and cluster_task is not None:
            await cluster.until_ready(cluster_task)
            if not cluster.ready.is_set():
                return  # stopped before it answered
            console.print(f"[green]Embedded cluster ready[/] at {cluster.url}")
            config = ClusterConfig.from_kubeconfig(cluster.kubeconfig_path)
        else:
            assert host_cluster is not None
            config = host_cluster

        def announce(url: str) -> None:
            console.print(f"[green]Atoll ready[/] at {url}")
            print(url, flush=True)

        await serve_atoll(
            config,
            server,
            stop=stop,
            ready=announce,
            tell=lambda text: console.print(f"[yellow]{text}[/]", soft_wrap=True),
            secure=lambda url: console.print(f"API for kubectl (HTTPS) at {url}"),
            admin_password=admin_password,
        )
    finally:
        if cluster is not None and cluster_task is not None:
            cluster.stop()
            await asyncio.gather(cluster_task, return_exceptions=True)


def _run(coro: object) -> None:
    try:
        import uvloop

        uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]


def _run_value(coro: Any) -> Any:
    return asyncio.run(coro)


def main() -> None:
    app()

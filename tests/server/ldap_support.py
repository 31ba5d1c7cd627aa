"""A private OpenLDAP directory for the LDAP log-in tests: Debian's ``slapd`` on loopback.

Each directory gets a throw-away ``cn=config`` (made with ``slapadd -n0`` from the LDIF
below: the mdb backend, the core/cosine/inetorgperson/nis schemas), a TLS certificate from
Atoll's own private CA (``atoll.kit.pki``) so StartTLS and ldaps:// are tested for real,
and its entries loaded offline with ``slapadd -n1`` before it starts:

- ``ou=people``: ``alice`` and ``bob`` (inetOrgPerson, with mail, cn and an {SSHA} password);
- ``ou=partners``: ``carol``, found only by a provider searching there;
- ``ou=groups``: ``developers`` (alice) and ``ops`` (bob), as groupOfNames.

It listens on ``ldap://127.0.0.1:<port>`` and ``ldaps://127.0.0.1:<tls_port>``, free ports
picked at start, is waited for by connecting (never by sleeping), and runs in its own
process group, so stopping it stops everything it started. ``stop()`` and ``start()``
again keep the data and the ports: a test can take the directory away and bring it back.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import eventually

from atoll.kit.pki import ensure_serving_certificate

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-of-the-directory"
PEOPLE = f"ou=people,{SUFFIX}"
PARTNERS = f"ou=partners,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
PASSWORDS = {"alice": "alice-in-ldap", "bob": "bob-in-ldap", "carol": "carol-in-ldap"}
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
SLAPD, SLAPADD = "/usr/sbin/slapd", "/usr/sbin/slapadd"  # /usr/sbin: not on every PATH
_LDAP_ENV = {"LDAPNOINIT": "1"}  # the tools ignore ldap.conf and ~/.ldaprc


def ssha(password: str) -> str:
    """An RFC 2307 ``{SSHA}`` userPassword value: SHA-1 of the password and a salt."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config_ldif(root: Path, cert: Path, key: Path, ca: Path) -> str:
    includes = "".join(f"include: file:///etc/ldap/schema/{name}.ldif\n\n" for name in SCHEMAS)
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {root}/slapd.pid
olcArgsFile: {root}/slapd.args
olcLogLevel: none
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}
olcTLSCACertificateFile: {ca}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{includes}\
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcRootDN: {ROOT_DN}
olcRootPW: {ssha(ROOT_PASSWORD)}
olcDbDirectory: {root}/data
olcDbIndex: objectClass eq
olcDbIndex: uid,member eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by * read
"""


def _person(uid: str, base: str, cn: str) -> str:
    return f"""\
dn: uid={uid},{base}
objectClass: inetOrgPerson
uid: {uid}
cn: {cn}
sn: {cn.split()[-1]}
mail: {uid}@example.org
userPassword: {ssha(PASSWORDS[uid])}
"""


def _entries_ldif() -> str:
    units = "\n".join(
        f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n"
        for ou in ("people", "partners", "groups")
    )
    # groupOfNames needs a member: a placeholder keeps developers valid once alice leaves.
    return f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

{units}
{_person("alice", PEOPLE, "Alice Liddell")}
{_person("bob", PEOPLE, "Bob Builder")}
{_person("carol", PARTNERS, "Carol Partner")}
dn: cn=developers,{GROUPS}
objectClass: groupOfNames
cn: developers
member: uid=alice,{PEOPLE}
member: uid=nobody,{PEOPLE}

dn: cn=ops,{GROUPS}
objectClass: groupOfNames
cn: ops
member: uid=bob,{PEOPLE}
"""


def _run(*args: str, input: str | None = None) -> str:
    done = subprocess.run(
        args,
        input=input,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **_LDAP_ENV},
    )
    if done.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({done.returncode}): {done.stderr}")
    return done.stdout


@dataclass
class Directory:
    root: Path
    port: int
    tls_port: int
    ca: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "slapd.log"

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        """ldaps://, by the name its certificate carries (localhost)."""
        return f"ldaps://localhost:{self.tls_port}"

    @property
    def starttls_url(self) -> str:
        return f"ldap://localhost:{self.port}"

    def start(self) -> None:
        listen = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [SLAPD, "-d", "0", "-F", str(self.root / "slapd.d"), "-h", listen],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )
        process = self.process
        ok = eventually(
            lambda: _answers(self.port) or (process.poll() is not None and "exited"),
            timeout=15,
            what="slapd listening",
        )
        assert ok is True, f"slapd exited with {process.returncode}: {self.log.read_text()}"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None

    def modify(self, ldif: str) -> None:
        """``ldapmodify`` as the directory's root."""
        _run("ldapmodify", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, input=ldif)

    def entry_uuid(self, dn: str) -> str:
        found = _run(
            "ldapsearch", "-x", "-LLL", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD,
            "-s", "base", "-b", dn, "entryUUID",
        )  # fmt: skip
        (line,) = [x for x in found.splitlines() if x.startswith("entryUUID: ")]
        return line.removeprefix("entryUUID: ")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_directory(root: Path) -> Directory:
    """Make a directory's configuration and entries under ``root``, and start it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir()
    (root / "slapd.d").mkdir()
    tls = ensure_serving_certificate(root, "127.0.0.1", common_name="slapd", dns_names=())
    assert tls.ca is not None
    (root / "config.ldif").write_text(_config_ldif(root, tls.cert, tls.key, tls.ca))
    (root / "entries.ldif").write_text(_entries_ldif())
    _run(SLAPADD, "-n0", "-F", str(root / "slapd.d"), "-l", str(root / "config.ldif"))
    _run(SLAPADD, "-n1", "-F", str(root / "slapd.d"), "-l", str(root / "entries.ldif"))
    port = free_port()
    tls_port = eventually(lambda: (other := free_port()) != port and other)
    directory = Directory(root, port, tls_port, tls.ca)
    directory.start()
    return directory

"""A real IMAP server on loopback for the survey tests: Debian's dovecot-imapd, started with its
own configuration in a temporary folder (plain IMAP on 127.0.0.1, one user, maildir)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mailserver import free_port

USER, PASSWORD = "crm@example.com", "imap-Secret-7"


@dataclass
class ImapServer:
    host: str
    port: int
    folder: Path
    process: subprocess.Popen

    def config(self) -> str:
        """The [survey.imap] section of crm.toml that points at this server."""
        return f'\n[survey.imap]\nhost = "{self.host}"\nport = {self.port}\nsecurity = "none"\nuser = "{USER}"\n'

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def dovecot() -> str | None:
    return shutil.which("dovecot") or (os.path.exists("/usr/sbin/dovecot") and "/usr/sbin/dovecot") or None


def start_imap_server() -> ImapServer:
    """dovecot in the foreground; its mail belongs to 'nobody' when the tests run as root (dovecot
    refuses uid 0 for mail), else to the user running them."""
    folder = Path(tempfile.mkdtemp(prefix="crm-imap-", dir="/tmp"))
    folder.chmod(0o755)
    home = folder / "home"
    home.mkdir()
    home.chmod(0o777)
    port = free_port()
    me = pwd.getpwuid(os.geteuid()).pw_name
    owner = "uid=nobody gid=nogroup" if os.geteuid() == 0 else f"uid={os.geteuid()} gid={os.getegid()}"
    users = folder / "users"
    users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    unprivileged = "" if os.geteuid() == 0 else f"default_login_user = {me}\ndefault_internal_user = {me}\n"
    (folder / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
{unprivileged}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = {owner} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    process = subprocess.Popen(
        [dovecot() or "dovecot", "-F", "-c", str(folder / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return ImapServer("127.0.0.1", port, folder, process)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    log = (folder / "dovecot.log").read_text(errors="replace") if (folder / "dovecot.log").exists() else ""
    process.kill()
    raise RuntimeError(f"dovecot did not start: {log[-500:]}")

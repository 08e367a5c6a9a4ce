import { appendFileSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";
import {
  checkAccountName,
  handle,
  requireBinary,
  ServerHost,
  stopChild,
  systemUser,
  waitUntilAnswering,
  withFreePort,
} from "./process.ts";
import type { Account, StartOptions, TestServer } from "./servers.ts";

const BIN = "/usr/lib/cyrus/bin";
const MASTER = `${BIN}/master`;
const SASLPASSWD = "/usr/sbin/saslpasswd2";
const UNSHARE = "/usr/bin/unshare";
const USER = "test";
const PASSWORD = "test";

/**
 * Cyrus logs only through syslog(3), to `/dev/log`, which a machine without a syslog daemon does not have. The
 * server therefore runs in a private mount namespace whose `/dev` is a small tmpfs holding the few devices a
 * server needs and `/dev/log` pointing at this package's sink socket. Nothing outside the namespace changes; the
 * host's `/dev` is unmounted from the state folder again before Cyrus starts, so removing the folder is safe.
 */
const NAMESPACE_SCRIPT = `
set -e
dir=$1; shift
mkdir -p "$dir/run/hostdev"
mount --rbind /dev "$dir/run/hostdev"
mount -t tmpfs -o mode=0755,size=1m tmpfs /dev
for n in null zero full random urandom tty; do
  if [ -e "$dir/run/hostdev/$n" ]; then : > "/dev/$n"; mount --bind "$dir/run/hostdev/$n" "/dev/$n"; fi
done
mkdir /dev/shm
mount -t tmpfs -o mode=1777,size=16m tmpfs /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s "$dir/run/syslog.sock" /dev/log
umount -l "$dir/run/hostdev"
rmdir "$dir/run/hostdev"
exec "$@"
`;

/**
 * A syslog sink on a unix stream socket (glibc's syslog() falls back to a stream socket when `/dev/log` is not
 * a datagram one; each message then ends with a NUL byte). Appends every message as one line to `file`, and keeps
 * a bounded tail for error messages.
 */
class SyslogSink {
  #tail = "";
  readonly #server: Server;
  readonly file: string;

  private constructor(server: Server, file: string) {
    this.#server = server;
    this.file = file;
  }

  static async listen(socketPath: string, file: string): Promise<SyslogSink> {
    const server = createServer();
    const sink = new SyslogSink(server, file);
    server.on("connection", (socket) => {
      let pending = "";
      socket.on("data", (chunk) => {
        pending += chunk.toString("utf8");
        const parts = pending.split(/\0|\n/);
        pending = parts.pop() ?? "";
        for (const message of parts) if (message !== "") sink.#write(message);
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        if (pending !== "") sink.#write(pending);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    server.unref();
    // Cyrus writes as its own user.
    await chmod(socketPath, 0o666);
    return sink;
  }

  #write(message: string): void {
    // Drop the "<priority>" prefix; keep the rest as syslog wrote it.
    const line = `${message.replace(/^<\d+>/, "")}\n`;
    this.#tail = (this.#tail + line).slice(-16_384);
    appendFileSync(this.file, line);
  }

  /** The last logged lines. */
  tail(): string {
    return this.#tail;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function imapdConf(dir: string): string {
  return [
    `configdirectory: ${dir}/config`,
    `proc_path: ${dir}/run/proc`,
    `mboxname_lockpath: ${dir}/run/lock`,
    "defaultpartition: default",
    `partition-default: ${dir}/spool`,
    `sievedir: ${dir}/sieve`,
    "sieveusehomedir: false",
    "servername: localhost",
    "hashimapspool: true",
    "altnamespace: no",
    "unixhierarchysep: no",
    "umask: 077",
    "allowplaintext: yes",
    "sasl_pwcheck_method: auxprop",
    "sasl_auxprop_plugin: sasldb",
    `sasl_sasldb_path: ${dir}/sasldb2`,
    "sasl_mech_list: PLAIN",
    // One IMAP login creates the user's INBOX, which the DAV modules need before they provision anything.
    "autocreate_quota: 0",
    "httpmodules: caldav carddav",
    `lmtpsocket: ${dir}/run/socket/lmtp`,
    `idlesocket: ${dir}/run/socket/idle`,
    `notifysocket: ${dir}/run/socket/notify`,
    "sendmail: /bin/true",
    "syslog_prefix: vdirsyncer-cyrus",
    "",
  ].join("\n");
}

// master does not pass its -C on: every command names the config itself, or it would use /etc/imapd.conf.
// httpd's maxchild caps open connections, kept-alive ones included: at 16, a client pool of 15-16 connections (a DAV
// storage keeps up to 16) made the next connection wait in the backlog until one closed (a PUT hung for 60 s).
function cyrusConf(dir: string, port: number): string {
  const c = `-C ${dir}/imapd.conf`;
  return `START {
  recover cmd="${BIN}/ctl_cyrusdb ${c} -r"
}
SERVICES {
  imap cmd="${BIN}/imapd ${c}" listen="${dir}/run/socket/imap" prefork=0 maxchild=4
  http cmd="${BIN}/httpd ${c}" listen="127.0.0.1:${port}" prefork=1 maxchild=100
}
EVENTS {
  checkpoint cmd="${BIN}/ctl_cyrusdb ${c} -c" period=30
}
`;
}

/**
 * Logs in once over IMAP (on the unix socket), which makes Cyrus create the user's INBOX.
 * @throws {Error} the login is refused or the exchange does not finish within 10 s
 */
function imapLogin(socketPath: string, user: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = "";
    let step = 0;
    const fail = (message: string) => {
      socket.destroy();
      reject(new Error(`Cyrus IMAP login on ${socketPath}: ${message}`));
    };
    socket.setTimeout(10_000, () => fail(`no answer within 10 s (got ${JSON.stringify(buffer)})`));
    socket.on("error", (error) => fail(error.message));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      if (step === 0 && /^\* OK/m.test(buffer)) {
        step = 1;
        buffer = "";
        socket.write(`a1 LOGIN ${user} ${password}\r\n`);
      } else if (step === 1 && /^a1 /m.test(buffer)) {
        if (!/^a1 OK/m.test(buffer)) return fail(`LOGIN answered ${JSON.stringify(buffer.trim())}`);
        step = 2;
        socket.end("a2 LOGOUT\r\n");
        resolve();
      }
    });
  });
}

async function propfind(
  url: string,
  depth: "0" | "1",
  auth: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: "PROPFIND",
    headers: { depth, authorization: auth, "content-type": "application/xml; charset=utf-8" },
    body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>',
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}

/**
 * Starts Debian's Cyrus IMAP 3 (`master` with the `httpd` CalDAV/CardDAV service) on 127.0.0.1 with a free port,
 * all state in a fresh temp folder, user `test`/`test` (sasldb). Its syslog goes to `<dataDir>/syslog`. Before it
 * returns, one IMAP login creates the INBOX and one PROPFIND makes Cyrus create the default calendar
 * (`/dav/calendars/user/test/Default/`) and address book (`/dav/addressbooks/user/test/Default/`).
 * Needs root (master drops to the `cyrus` user; the private `/dev` needs a mount namespace).
 * @throws {Error} a binary is missing (names the Debian package), or the server did not come up (with its log)
 */
export async function startCyrus(options: StartOptions = {}): Promise<TestServer> {
  requireBinary(MASTER, "cyrus-imapd cyrus-caldav");
  requireBinary(`${BIN}/httpd`, "cyrus-caldav");
  requireBinary(SASLPASSWD, "sasl2-bin");
  requireBinary(UNSHARE, "util-linux");
  if (process.getuid?.() !== 0) {
    throw new Error(
      "Cyrus needs root here: its master drops to the cyrus user and logs through a private /dev.",
    );
  }
  systemUser("cyrus");
  const host = await ServerHost.create("cyrus", options.keepData);
  const dir = host.dir;
  let sink: SyslogSink | undefined;
  host.onStop(async () => {
    await sink?.close();
  });
  try {
    if (/[\s"'\\]/.test(dir))
      throw new Error(`Cyrus cannot use the state folder ${dir}: it has spaces or quotes.`);
    // master and its children run as user cyrus and must reach the folder.
    await chmod(dir, 0o755);
    for (const sub of [
      "config/db",
      "config/socket",
      "config/log",
      "config/quota",
      "config/user",
      "spool",
      "sieve",
      "run/socket",
      "run/proc",
      "run/lock",
    ]) {
      await mkdir(join(dir, sub), { recursive: true });
    }
    sink = await SyslogSink.listen(join(dir, "run", "syslog.sock"), join(dir, "syslog"));
    const log = sink;
    await writeFile(join(dir, "imapd.conf"), imapdConf(dir));
    await addSaslUser(host, USER, PASSWORD);
    return await withFreePort(3, async (port) => {
      await writeFile(join(dir, "cyrus.conf"), cyrusConf(dir, port));
      await host.run("/bin/chown", [
        "-R",
        "cyrus:mail",
        ...["config", "spool", "sieve", "run", "sasldb2"].map((f) => join(dir, f)),
      ]);
      const started = host.spawn(
        UNSHARE,
        [
          "--mount",
          "--propagation",
          "private",
          "/bin/sh",
          "-c",
          NAMESPACE_SCRIPT,
          "cyrus-namespace",
          dir,
          MASTER,
          "-D",
          "-C",
          join(dir, "imapd.conf"),
          "-M",
          join(dir, "cyrus.conf"),
          "-p",
          join(dir, "run", "master.pid"),
        ],
        { group: true },
      );
      const url = `http://127.0.0.1:${port}/`;
      const logged = () => `\nCyrus syslog (${log.file}):\n${log.tail()}`;
      try {
        await waitUntilAnswering("cyrus", url, started, options.startTimeoutMs ?? 20_000, () =>
          /unable to bind|address already in use/i.test(log.tail())
            ? `port ${port}: address already in use`
            : undefined,
        );
        await provision(url, dir, USER, PASSWORD);
      } catch (error) {
        await stopChild(started, 2000);
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`${message}${logged()}`, { cause: error });
      }
      const accountOf = (name: string, pass: string): Account => ({
        username: name,
        password: pass,
        principal: `/dav/principals/user/${name}/`,
        homes: {
          calendar: `${url}dav/calendars/user/${name}/`,
          addressbook: `${url}dav/addressbooks/user/${name}/`,
        },
      });
      return {
        kind: "cyrus" as const,
        url,
        ...accountOf(USER, PASSWORD),
        addAccount: async (name: string, pass: string) => {
          checkAccountName(name, pass);
          await addSaslUser(host, name, pass);
          await provision(url, dir, name, pass);
          return accountOf(name, pass);
        },
        logFile: log.file,
        ...handle(host, started),
      };
    });
  } catch (error) {
    await host.stop();
    throw error;
  }
}

/** Adds a sasldb user (the realm is the servername); the file stays readable for Cyrus. */
async function addSaslUser(host: ServerHost, user: string, password: string): Promise<void> {
  const db = join(host.dir, "sasldb2");
  await host.run(SASLPASSWD, ["-f", db, "-p", "-c", "-u", "localhost", user], { input: `${password}\n` });
  await host.run("/bin/chown", ["cyrus:mail", db]);
}

/**
 * Makes a user usable over DAV: an IMAP login creates the INBOX (without it every authenticated DAV
 * request is a 500), one PROPFIND makes httpd create the default calendar and address book, and both are checked.
 * @throws {Error} any step fails
 */
async function provision(url: string, dir: string, user: string, password: string): Promise<void> {
  await imapLogin(join(dir, "run", "socket", "imap"), user, password);
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const root = await propfind(url, "0", auth);
  if (root.status !== 207)
    throw new Error(`Cyrus: PROPFIND / answered ${root.status}: ${root.body.slice(0, 300)}`);
  for (const path of [`dav/calendars/user/${user}/Default/`, `dav/addressbooks/user/${user}/Default/`]) {
    const res = await propfind(`${url}${path}`, "0", auth);
    if (res.status !== 207) {
      throw new Error(
        `Cyrus: PROPFIND /${path} answered ${res.status} after provisioning: ${res.body.slice(0, 300)}`,
      );
    }
  }
}

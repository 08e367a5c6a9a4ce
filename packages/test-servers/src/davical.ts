import { existsSync, readdirSync } from "node:fs";
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  checkAccountName,
  handle,
  requireBinary,
  ServerHost,
  type Started,
  stopChild,
  systemUser,
  waitUntilAnswering,
  withFreePort,
} from "./process.ts";
import type { Account, StartOptions, TestServer } from "./servers.ts";

const DAVICAL = "/usr/share/davical";
const HTDOCS = `${DAVICAL}/htdocs`;
const PHP = "/usr/bin/php";
const USER = "test";
const PASSWORD = "test";
/** PHP's built-in server forks this many workers, each answering one request at a time. */
const PHP_WORKERS = 4;

/** The newest Debian PostgreSQL's bin folder (`/usr/lib/postgresql/<major>/bin`). */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error(
      "/usr/lib/postgresql/*/bin/initdb is missing: install the Debian package with `apt-get install postgresql`.",
    );
  }
  return join(root, majors[0] as string, "bin");
}

function requirePhpPgsql(): void {
  const confDirs = existsSync("/etc/php")
    ? readdirSync("/etc/php").map((v) => `/etc/php/${v}/cli/conf.d`)
    : [];
  const found = confDirs.some((d) => existsSync(d) && readdirSync(d).some((f) => /pgsql\.ini$/.test(f)));
  if (!found) {
    throw new Error(
      "PHP's PostgreSQL extension is missing: install the Debian package with `apt-get install php-pgsql`.",
    );
  }
}

// A user with its principal, home calendar and home address book: the rows DAViCal's admin pages would create
// (its own auth creates home collections only for users from an external directory). Names are checked plain.
function userSql(user: string, password: string): string {
  return `
INSERT INTO usr (active, username, password, fullname, email)
  VALUES (true, '${user}', '**${password}', 'Test User ${user}', '${user}@example.com');
INSERT INTO principal (type_id, user_no, displayname, default_privileges)
  SELECT 1, user_no, 'Test User ${user}', 0::BIT(24) FROM usr WHERE username = '${user}';
INSERT INTO collection (user_no, parent_container, dav_name, dav_etag, dav_displayname, is_calendar,
                        is_addressbook, created, modified, resourcetypes)
  SELECT user_no, '/${user}/', '/${user}/calendar/', '-1', 'Test User calendar', true, false, now(), now(),
         '<DAV::collection/><urn:ietf:params:xml:ns:caldav:calendar/>' FROM usr WHERE username = '${user}'
  UNION ALL
  SELECT user_no, '/${user}/', '/${user}/addresses/', '-1', 'Test User addressbook', false, true, now(), now(),
         '<DAV::collection/><urn:ietf:params:xml:ns:carddav:addressbook/>' FROM usr WHERE username = '${user}';
`;
}

/**
 * The router for PHP's built-in server, doing what Debian's Apache config does: `/caldav.php/…` runs caldav.php
 * with the rest as PATH_INFO, `/.well-known/…` too (DAViCal redirects it), everything else is 404. DAViCal looks
 * for `/etc/davical/<SERVER_NAME>-conf.php`; a SERVER_NAME of `../..<state>/davical` makes that the state
 * folder's config, so nothing under /etc is read or changed. Each request adds one access line to the log.
 */
const ROUTER_PHP = `<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (preg_match('#^/caldav\\.php(/.*)?$#', $path, $m)) {
  $info = isset($m[1]) ? rawurldecode($m[1]) : '';
} elseif (strncmp($path, '/.well-known/', 13) === 0) {
  $info = rawurldecode($path);
} else {
  http_response_code(404);
  header('Content-Type: text/plain');
  echo "Not found\\n";
  return true;
}
$started = microtime(true);
register_shutdown_function(function () use ($started) {
  error_log(sprintf('access %s %s %d %d ms', $_SERVER['REQUEST_METHOD'], $_SERVER['REQUEST_URI'],
    http_response_code(), (microtime(true) - $started) * 1000));
});
$_SERVER['SCRIPT_NAME'] = '/caldav.php';
$_SERVER['PHP_SELF'] = '/caldav.php' . $info;
$_SERVER['PATH_INFO'] = $info;
$_SERVER['SCRIPT_FILENAME'] = '${HTDOCS}/caldav.php';
$_SERVER['SERVER_NAME'] = '../..' . substr(getenv('VDIRSYNCER_DAVICAL_CONF'), 0, -strlen('-conf.php'));
chdir('${HTDOCS}');
require '${HTDOCS}/caldav.php';
`;

function configPhp(socketDir: string): string {
  return `<?php
$c->pg_connect[] = 'host=${socketDir} dbname=davical user=davical_app';
$c->system_name = 'DAViCal test server';
$c->admin_email = 'admin@example.com';
$c->domain_name = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
`;
}

/**
 * Starts Debian's DAViCal 1.1 on PHP's built-in server (with a router script and {@link PHP_WORKERS} workers) on
 * 127.0.0.1 with a free port, on a private PostgreSQL cluster in the state folder (unix socket only, fsync off:
 * test data need no durability), built by DAViCal's own `create-database.sh`. User `test`/`test` with the home
 * calendar `/caldav.php/test/calendar/` and address book `/caldav.php/test/addresses/`; `url` is the DAV root
 * `/caldav.php/`. DAViCal's log (and one access line per request) goes to `<dataDir>/davical.log`.
 * @throws {Error} a binary is missing (names the Debian package), or a step failed (with its output)
 */
export async function startDavical(options: StartOptions = {}): Promise<TestServer> {
  requireBinary(PHP, "php-cli");
  requireBinary(`${DAVICAL}/dba/create-database.sh`, "davical");
  requirePhpPgsql();
  const bin = postgresBin();
  const asPostgres = process.getuid?.() === 0 ? systemUser("postgres") : undefined;
  const host = await ServerHost.create("davical", options.keepData);
  const dir = host.dir;
  const pgdata = join(dir, "pgdata");
  const socketDir = join(dir, "pgsock");
  try {
    if (/[\s'"\\]/.test(dir))
      throw new Error(`DAViCal cannot use the state folder ${dir}: it has spaces or quotes.`);
    // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
    await chmod(dir, 0o755);
    await mkdir(pgdata, { mode: 0o700 });
    await mkdir(socketDir);
    if (asPostgres) {
      await chown(pgdata, asPostgres.uid, asPostgres.gid);
      await chown(socketDir, asPostgres.uid, asPostgres.gid);
    }
    await host.run(
      `${bin}/initdb`,
      ["-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
      { user: asPostgres, cwd: dir },
    );
    const postgres = host.spawn(
      `${bin}/postgres`,
      [
        "-D",
        pgdata,
        "-k",
        socketDir,
        "-c",
        "listen_addresses=",
        "-c",
        "max_connections=40",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
      ],
      { user: asPostgres, cwd: dir, group: true, stopSignal: "SIGINT" },
    );
    await waitForPostgres(host, bin, socketDir, postgres);
    const pgEnv = { PGHOST: socketDir, PGUSER: "postgres", TMPDIR: dir };
    await host.run(`${DAVICAL}/dba/create-database.sh`, ["davical", "admin"], { env: pgEnv, cwd: dir });
    const addUser = async (user: string, password: string) => {
      const file = join(dir, `user-${user}.sql`);
      await writeFile(file, userSql(user, password));
      await host.run(`${bin}/psql`, ["-qX", "-v", "ON_ERROR_STOP=1", "-f", file, "davical"], { env: pgEnv });
    };
    await addUser(USER, PASSWORD);
    const conf = join(dir, "davical-conf.php");
    await writeFile(conf, configPhp(socketDir));
    await writeFile(join(dir, "router.php"), ROUTER_PHP);
    const logFile = join(dir, "davical.log");
    return await withFreePort(3, async (port) => {
      const php = host.spawn(
        PHP,
        [
          "-d",
          "display_errors=0",
          "-d",
          "log_errors=1",
          "-d",
          `error_log=${logFile}`,
          "-S",
          `127.0.0.1:${port}`,
          "-t",
          HTDOCS,
          join(dir, "router.php"),
        ],
        {
          cwd: HTDOCS,
          group: true,
          env: { VDIRSYNCER_DAVICAL_CONF: conf, PHP_CLI_SERVER_WORKERS: String(PHP_WORKERS) },
        },
      );
      const origin = `http://127.0.0.1:${port}/`;
      const url = `${origin}caldav.php/`;
      try {
        await waitUntilAnswering("davical", url, php, options.startTimeoutMs ?? 20_000);
        await checkHome(`${url}${USER}/calendar/`, USER, PASSWORD);
      } catch (error) {
        await stopChild(php, 1000);
        throw error;
      }
      const accountOf = (name: string, pass: string): Account => ({
        username: name,
        password: pass,
        principal: `/caldav.php/${name}/`,
        homes: { calendar: `${url}${name}/`, addressbook: `${url}${name}/` },
      });
      return {
        kind: "davical" as const,
        url,
        ...accountOf(USER, PASSWORD),
        addAccount: async (name: string, pass: string) => {
          checkAccountName(name, pass);
          await addUser(name, pass);
          await checkHome(`${url}${name}/calendar/`, name, pass);
          return accountOf(name, pass);
        },
        logFile,
        ...handle(host, php, [postgres]),
      };
    });
  } catch (error) {
    await host.stop();
    throw error;
  }
}

/**
 * Waits (bounded, 20 s) until the private PostgreSQL accepts connections on its socket.
 * @throws {Error} it exited or did not get ready in time; the message carries its output
 */
async function waitForPostgres(
  host: ServerHost,
  bin: string,
  socketDir: string,
  postgres: Started,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (postgres.child.exitCode !== null || postgres.child.signalCode !== null) {
      throw new Error(`PostgreSQL for DAViCal exited while starting:\n${postgres.output()}`);
    }
    if (existsSync(join(socketDir, ".s.PGSQL.5432"))) {
      try {
        await host.run(`${bin}/pg_isready`, ["-q", "-h", socketDir], { timeoutMs: 5000 });
        return;
      } catch {
        // not yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`PostgreSQL for DAViCal did not get ready within 20 s:\n${postgres.output()}`);
}

/**
 * Checks that a user's home calendar answers an authenticated PROPFIND.
 * @throws {Error} it does not answer 207
 */
async function checkHome(calendar: string, user: string, password: string): Promise<void> {
  const response = await fetch(calendar, {
    method: "PROPFIND",
    headers: {
      depth: "0",
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
      "content-type": "application/xml; charset=utf-8",
    },
    body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>',
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  if (response.status !== 207) {
    throw new Error(`DAViCal: PROPFIND ${calendar} answered ${response.status}: ${body.slice(0, 500)}`);
  }
}

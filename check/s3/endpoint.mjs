// endpoint.mjs — skiff's stand-in for AWS on loopback, for the S3 and ECS tests.
//
// One HTTP server that
//  - recomputes the SigV4 signature of every signed request with the AWS SDK's own signer
//    (@smithy/signature-v4) over exactly the headers the client says it signed, and answers
//    403 on a mismatch; checks x-amz-content-sha256 against the body, the date, and the
//    session token of temporary credentials (400 ExpiredToken once they expired);
//  - verifies presigned URLs (X-Amz-Algorithm … X-Amz-Signature in the query) the same way,
//    with the signer's presign(), and refuses expired ones (403 AccessDenied);
//  - holds every PUT that carries x-amz-checksum-sha256 to it, as S3 does: a malformed value
//    is 400 InvalidRequest, a body with another SHA-256 400 BadDigest, and nothing is stored;
//  - forwards S3 requests (path-style or virtual-hosted) to an in-process s3rver;
//  - stands in for the ECS API (RunTask, DescribeTasks, StopTask, JSON 1.1): on RunTask it
//    starts the task definition's container command as a local process with exactly the
//    environment Fargate would give it (task definition + container overrides + the task
//    role's AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), reports it RUNNING, then STOPPED with
//    the process's exit code;
//  - serves container credentials (GET /v2/credentials/{id}) with a configurable lifetime;
//  - stands in for STS: AssumeRoleWithWebIdentity (unsigned, the token the test set) and
//    AssumeRole (signed with service sts, checked like every signed request), both answering
//    temporary credentials with the same configurable lifetime; AssumeRole follows the
//    roles' trust the test set (fault.role_trust: role -> the principal whose credentials
//    must sign: another role, 'long-term', 'imds', 'container' or 'sso:ROLE'), and refuses a
//    chained role session longer than an hour as STS does;
//  - stands in for the IAM Identity Center portal: GetRoleCredentials
//    (GET /federation/credentials, the bearer token the test set in fault.sso_token);
//  - takes test controls on /__admin/ (faults, statistics).
//
// usage: node endpoint.mjs --dir DIR --port-file FILE [--bucket NAME] [--taskdef FILE]
//        [--cluster NAME] [--region REGION]
// env:   SKIFF_TEST_ACCESS_KEY / SKIFF_TEST_SECRET_KEY: the long-term key pair it accepts.
import crypto from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
// s3rver makes continuation tokens with DES, which OpenSSL 3 has only in its legacy
// provider: the same 8-byte key and IV, doubled, for AES-128-CBC instead (tokens stay opaque).
for (const name of ['createCipheriv', 'createDecipheriv']) {
  const orig = crypto[name];
  crypto[name] = (alg, key, iv, ...rest) =>
    alg === 'des' ? orig('aes-128-cbc', Buffer.concat([key, key]), Buffer.concat([iv, iv]), ...rest) : orig(alg, key, iv, ...rest);
}
const { default: S3rver } = await import('s3rver');
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const dir = args.dir;
const bucket = args.bucket || 'skiff-test';
const region = args.region || 'us-east-1';
const clusterName = args.cluster || 'skiff-test';
const accountId = '123456789012';
const longTerm = {
  accessKeyId: process.env.SKIFF_TEST_ACCESS_KEY || 'AKIASKIFFTEST0000001',
  secretAccessKey: process.env.SKIFF_TEST_SECRET_KEY || 'skiff/test+secret/key0000000000000000000',
};
mkdirSync(join(dir, 's3rver'), { recursive: true });

// ---- state shared by the handlers -------------------------------------------------------
const temp = new Map();      // access key id -> { secretAccessKey, sessionToken, expires }
const fault = {
  s3_status: 503, s3_count: 0, s3_down: false, s3_delay_ms: 0,
  ecs_throttle: 0, ecs_failures: 0, ecs_failure_reason: 'RESOURCE:MEMORY', ecs_crash: 0, ecs_pending: 0,
  creds_ttl: 900, creds_down: false, clock_offset_s: 0, clock_offset_for: 'all', s3_cut_get: 0, s3_stall_get: 0,
  iam_list_bucket: 'unconditioned', // or 'prefix' (conditioned on s3:prefix) or 'none'
};
const stats = {
  s3: { GET: 0, PUT: 0, HEAD: 0, DELETE: 0, POST: 0 }, s3_keys: { GET: [], PUT: [] },
  rejected_signature: 0, rejected_skew: 0, rejected_expired: 0, rejected_payload: 0, faults_served: 0,
  presigned: 0, rejected_checksum: 0,
  creds_fetched: 0, sts_calls: 0, sts_refused: 0, assume_role_calls: 0, assume_role_last: null, assume_role_log: [], sso_calls: 0, sso_refused: 0, sso_last: null, imds_tokens: 0, imds_creds: 0, imds_refused: 0, tokens_in: 0, ranges: [], iam_denied: 0, last_ecs: {}, ecs: {}, runtask_times: [], runtask_tokens: [], last_runtask: null, put_bytes: 0, throttled_rate: 0,
};
const tasks = new Map();     // task arn -> task
const tokens = new Map();    // clientToken -> task arn
const tokenParams = new Map(); // clientToken -> the request's other parameters
let taskdef = null;
if (args.taskdef) taskdef = JSON.parse(readFileSync(args.taskdef, 'utf8'));

// ---- helpers -------------------------------------------------------------------------------
// JSON with sorted keys: the same parameters give the same text whatever their order
const canon = (v) => Array.isArray(v) ? `[${v.map(canon).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`
  : JSON.stringify(v);
const sha256hex = (b) => createHash('sha256').update(b).digest('hex');
const xmlEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function s3Error(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
}
function ecsJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}
function ecsError(res, status, type, message) {
  ecsJson(res, status, { __type: type, message });
}
// the stand-in's clock offset for S3 or for ECS requests (clock_offset_for: all, s3, ecs)
function clockOffsetMs(isS3) {
  const on = fault.clock_offset_for === 'all' || fault.clock_offset_for === (isS3 ? 's3' : 'ecs');
  return on ? fault.clock_offset_s * 1000 : 0;
}
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}
// the raw query string into decoded key -> value (or array), as the signer expects
function parseQuery(raw) {
  const q = {};
  if (!raw) return q;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (k in q) q[k] = [].concat(q[k], v);
    else q[k] = v;
  }
  return q;
}
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Verifies a presigned request (query-string authentication, S3 only): the signature that
// @smithy/signature-v4's presign() computes over the same request and signed headers, the
// expiry, the session token of temporary credentials. Answers and returns null when it is not
// valid, else returns { service, accessKeyId }.
async function verifyPresigned(req, res, rawPath, q) {
  const fail = (status, code, message) => { s3Error(res, status, code, message); return null; };
  if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256')
    return fail(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const cred = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(q['X-Amz-Credential'] || '');
  const date = parseAmzDate(q['X-Amz-Date']);
  const expires = Number(q['X-Amz-Expires']);
  const signedList = q['X-Amz-SignedHeaders'] || '';
  const signature = q['X-Amz-Signature'] || '';
  if (!cred || !date || !Number.isInteger(expires) || expires < 1 || expires > 604800 ||
      !/^[a-z0-9;-]+$/.test(signedList) || !/^[0-9a-f]{64}$/.test(signature) || q['X-Amz-Date'].slice(0, 8) !== cred[2])
    return fail(400, 'AuthorizationQueryParametersError', 'malformed presigned query parameters');
  const [, akid, , reg, service] = cred;
  if (service !== 's3') return fail(400, 'AuthorizationQueryParametersError', `service ${service} is not s3`);
  let creds = null;
  if (akid === longTerm.accessKeyId) creds = { ...longTerm };
  else if (temp.has(akid)) {
    const t = temp.get(akid);
    if (q['X-Amz-Security-Token'] !== t.sessionToken)
      return fail(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    creds = { accessKeyId: akid, secretAccessKey: t.secretAccessKey, sessionToken: t.sessionToken };
  } else return fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (reg !== region) return fail(400, 'AuthorizationQueryParametersError', `the region '${reg}' is wrong; expecting '${region}'`);
  const now = Date.now() + clockOffsetMs(true);
  if (now > date.getTime() + expires * 1000) {
    stats.rejected_expired++;
    return fail(403, 'AccessDenied', 'Request has expired');
  }
  const signed = signedList.split(';');
  if (!signed.includes('host')) return fail(403, 'SignatureDoesNotMatch', 'host is not signed');
  const headers = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return fail(403, 'SignatureDoesNotMatch', `signed header ${h} is missing`);
    headers[h] = String(req.headers[h]);
  }
  const query = { ...q };
  delete query['X-Amz-Signature'];
  const signer = new SignatureV4({ credentials: creds, region: reg, service, sha256: Sha256, uriEscapePath: false });
  // a body that is neither a string nor bytes makes the signer use UNSIGNED-PAYLOAD, as S3
  // does for presigned requests; the signed x-amz-* headers stay headers (not hoisted)
  const expected = await signer.presign(
    { method: req.method, protocol: 'http:', hostname: req.headers.host, path: rawPath, query, headers, body: { unsigned: true } },
    { signingDate: date, expiresIn: expires, signableHeaders: new Set(signed),
      unhoistableHeaders: new Set(signed.filter((h) => h.startsWith('x-amz-'))) },
  );
  if (expected.query['X-Amz-SignedHeaders'] !== signedList || expected.query['X-Amz-Signature'] !== signature) {
    stats.rejected_signature++;
    process.stderr.write(`presigned signature mismatch: ${req.method} ${rawPath} signed=${signedList} expected=${expected.query['X-Amz-SignedHeaders']}\n`);
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  stats.presigned++;
  return { service, accessKeyId: akid };
}

// S3's additional checksums: a PUT with x-amz-checksum-sha256 is stored only when its body has
// that SHA-256 (base64). Answers and returns false when it has not.
function checksumOk(req, res, body) {
  const want = req.headers['x-amz-checksum-sha256'];
  if (want === undefined || req.method !== 'PUT') return true;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(want)) {
    s3Error(res, 400, 'InvalidRequest', 'Value for x-amz-checksum-sha256 header is invalid.');
    return false;
  }
  if (createHash('sha256').update(body).digest('base64') !== want) {
    stats.rejected_checksum++;
    s3Error(res, 400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
    return false;
  }
  return true;
}

// Verifies the request's SigV4 signature; answers and returns null when it is not valid,
// else returns { service, accessKeyId }.
async function verify(req, res, body, isS3Hint) {
  const [rawPath0, rawQuery0] = req.url.split('?', 2);
  const q0 = parseQuery(rawQuery0);
  if (isS3Hint && !req.headers.authorization && q0['X-Amz-Signature'] !== undefined)
    return verifyPresigned(req, res, rawPath0, q0);
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  const fail = (status, code, message) => {
    const service = m ? m[4] : isS3Hint ? 's3' : 'ecs';
    if (service === 's3') s3Error(res, status, code, message);
    else ecsError(res, status, code === 'SignatureDoesNotMatch' ? 'InvalidSignatureException' : code, message);
    return null;
  };
  if (!m) return fail(403, 'AccessDenied', 'missing or malformed Authorization header');
  const [, akid, day, reg, service, signedList, signature] = m;
  let creds = null;
  if (akid === longTerm.accessKeyId) creds = { ...longTerm };
  else if (temp.has(akid)) {
    const t = temp.get(akid);
    if (req.headers['x-amz-security-token'] !== t.sessionToken)
      return fail(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    if (Date.now() >= t.expires) {
      stats.rejected_expired++;
      return fail(400, service === 's3' ? 'ExpiredToken' : 'ExpiredTokenException', 'The provided token has expired.');
    }
    creds = { accessKeyId: akid, secretAccessKey: t.secretAccessKey, sessionToken: t.sessionToken };
  } else return fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (reg !== region) return fail(400, 'AuthorizationHeaderMalformed', `the region '${reg}' is wrong; expecting '${region}'`);
  const date = parseAmzDate(req.headers['x-amz-date']);
  const now = Date.now() + clockOffsetMs(service === 's3');
  if (!date || Math.abs(date - now) > 15 * 60 * 1000 || req.headers['x-amz-date'].slice(0, 8) !== day) {
    stats.rejected_skew++;
    if (service !== 's3' && date)   // what ECS and other JSON services say
      return fail(400, 'InvalidSignatureException', `Signature expired: ${req.headers['x-amz-date']} is now earlier than ${new Date(now - 5 * 60 * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')} (${new Date(now).toISOString()} - 5 min.)`);
    return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  const declared = req.headers['x-amz-content-sha256'];
  if (service === 's3' && !declared)
    return fail(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (declared && declared !== 'UNSIGNED-PAYLOAD' && declared !== sha256hex(body)) {
    stats.rejected_payload++;
    return fail(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const signed = signedList.split(';');
  if (!signed.includes('host')) return fail(403, 'SignatureDoesNotMatch', 'host is not signed');
  const headers = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return fail(403, 'SignatureDoesNotMatch', `signed header ${h} is missing`);
    headers[h] = String(req.headers[h]);
  }
  const [rawPath, rawQuery] = req.url.split('?', 2);
  const signer = new SignatureV4({ credentials: creds, region: reg, service, sha256: Sha256, uriEscapePath: service !== 's3' });
  const expected = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: req.headers.host, path: rawPath, query: parseQuery(rawQuery), headers, body },
    { signingDate: date, signableHeaders: new Set(signed) },
  );
  const want = /SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(expected.headers.authorization);
  if (!want || want[1] !== signedList || want[2] !== signature) {
    stats.rejected_signature++;
    process.stderr.write(`signature mismatch: ${req.method} ${req.url} signed=${signedList} expected=${want && want[1]}\n`);
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  return { service, accessKeyId: akid };
}

// ---- S3: forward to s3rver ------------------------------------------------------------------
let upstreamPort = 0;
function s3Forward(req, res, body) {
  // a presigned request's authentication was checked here: s3rver gets the request without it
  let path = req.url.replace(/([?&])X-Amz-[A-Za-z-]+=[^&]*/g, '$1').replace(/[?&]+$/, '').replace(/\?&+/, '?').replace(/&&+/g, '&');
  const host = (req.headers.host || '').split(':')[0];
  const vhost = host.endsWith('.localhost') ? host.slice(0, -'.localhost'.length) : null;
  if (vhost) path = `/${vhost}${path === '/' ? '' : path.startsWith('/?') ? path.slice(1) : path}`;
  const keyPath = path.split('?')[0];
  if (stats.s3[req.method] !== undefined) stats.s3[req.method]++;
  if (stats.s3_keys[req.method]) stats.s3_keys[req.method].push(decodeURIComponent(keyPath));
  if (req.method === 'PUT') stats.put_bytes += body.length;
  if (req.method === 'GET' && req.headers.range) stats.ranges.push(req.headers.range);
  const headers = { ...req.headers };
  delete headers.authorization;
  delete headers['x-amz-security-token'];
  delete headers.expect;
  headers.host = `127.0.0.1:${upstreamPort}`;
  headers['content-length'] = String(body.length);
  delete headers['transfer-encoding'];
  // ListObjectsV2: S3's continuation tokens are base64 with '+', '/' and '='; s3rver's are
  // not, so every token is wrapped into one that has all three (and unwrapped on its way in)
  const listing = req.method === 'GET' && /[?&]list-type=2(&|$)/.test(path);
  if (listing && fault.iam_list_bucket === 'none') return s3Error(res, 403, 'AccessDenied', 'Access Denied');
  if (listing) {
    path = path.replace(/([?&]continuation-token=)([^&]*)/, (all, k, v) => {
      const token = decodeURIComponent(v);
      const m = /^p\+\/(.*)=$/.exec(token);
      stats.tokens_in++;
      return k + encodeURIComponent(m ? Buffer.from(m[1], 'base64').toString('utf8') : token);
    });
  }
  const up = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path, headers }, (ur) => {
    // IAM: S3 answers 404 for a missing key only to callers allowed s3:ListBucket on the
    // bucket without conditions; with it conditioned on s3:prefix, or without it, 403
    if (ur.statusCode === 404 && fault.iam_list_bucket !== 'unconditioned' &&
        (req.method === 'GET' || req.method === 'HEAD') && !listing) {
      ur.resume();
      stats.iam_denied++;
      if (req.method === 'HEAD') {
        res.writeHead(403);
        return res.end();
      }
      return s3Error(res, 403, 'AccessDenied', 'Access Denied');
    }
    // a download cut or stalled halfway (s3_cut_get / s3_stall_get times): the headers
    // promise the whole object, half of it comes, then the connection drops or goes silent
    const broken = req.method === 'GET' && !listing && ur.statusCode === 200 &&
      (fault.s3_cut_get > 0 || fault.s3_stall_get > 0);
    if (broken) {
      const stall = !(fault.s3_cut_get > 0);
      if (stall) fault.s3_stall_get--;
      else fault.s3_cut_get--;
      stats.faults_served++;
      return readBody(ur).then((b) => {
        res.writeHead(200, ur.headers);
        res.write(b.subarray(0, Math.floor(b.length / 2)));
        if (stall) setTimeout(() => req.socket.destroy(), 60000).unref();
        else setTimeout(() => req.socket.destroy(), 50);
      });
    }
    if (!listing || ur.statusCode !== 200) {
      res.writeHead(ur.statusCode, ur.headers);
      return ur.pipe(res);
    }
    readBody(ur).then((b) => {
      const xml = b.toString('utf8').replace(/<(NextContinuationToken|ContinuationToken)>([^<]*)<\/\1>/g,
        (all, tag, t) => `<${tag}>p+/${Buffer.from(t, 'utf8').toString('base64')}=</${tag}>`);
      const out = { ...ur.headers, 'content-length': String(Buffer.byteLength(xml)) };
      res.writeHead(200, out);
      res.end(xml);
    });
  });
  up.on('error', (e) => s3Error(res, 500, 'InternalError', String(e)));
  up.end(body);
}

// ---- ECS stand-in ---------------------------------------------------------------------------
function taskView(t) {
  const { proc, ...view } = t;
  return JSON.parse(JSON.stringify(view));
}
function startTask(t, crash) {
  const c = taskdef.containerDefinitions.find((x) => x.name === t.build);
  const override = (t.overrides.containerOverrides || []).find((x) => x.name === c.name) || {};
  // exactly what Fargate gives the container: the image's ENV (PATH), the task definition's
  // environment, the overrides' environment, and the task role's credentials URI.
  const env = { PATH: process.env.PATH, HOME: '/root' };
  for (const e of c.environment || []) env[e.name] = e.value;
  for (const e of override.environment || []) env[e.name] = e.value;
  if (taskdef.taskRoleArn) {
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = `/v2/credentials/${t.credId}`;
    env.SKIFF_AWS_CONTAINER_CREDENTIALS_HOST = `http://127.0.0.1:${server.address().port}`; // test-only agent address
  }
  const argv = crash
    ? ['/bin/sh', '-c', 'echo "exec /usr/bin/skiff-build: exec format error" >&2; exit 1']
    : [...(c.entryPoint || []), ...(override.command || c.command || [])];
  const log = openSync(join(dir, `task-${t.taskArn.split('/').pop()}.log`), 'a');
  t.proc = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', log, log] });
  t.lastStatus = 'RUNNING';
  t.startedAt = Date.now() / 1000;
  for (const x of t.containers) x.lastStatus = 'RUNNING';
  const built = t.containers.find((x) => x.name === t.build);
  t.proc.on('exit', (code, sig) => {
    t.lastStatus = 'STOPPED';
    t.desiredStatus = 'STOPPED';
    t.stoppedAt = Date.now() / 1000;
    // the sidecars are stopped with the task and exit 0
    for (const x of t.containers) Object.assign(x, { lastStatus: 'STOPPED', exitCode: 0 });
    built.exitCode = code === null ? 128 + ({ SIGTERM: 15, SIGKILL: 9 }[sig] || 0) : code;
    if (!t.stopCode) {
      t.stopCode = 'EssentialContainerExited';
      t.stoppedReason = 'Essential container in task exited';
    }
  });
  t.proc.on('error', (e) => {
    t.lastStatus = 'STOPPED';
    t.stopCode = 'TaskFailedToStart';
    t.stoppedReason = `CannotStartContainerError: ${e.message}`;
  });
}
function runTask(res, body) {
  stats.runtask_times.push(Date.now());
  const recent = stats.runtask_times.filter((x) => Date.now() - x < 1000);
  if (recent.length > 20) {
    stats.throttled_rate++; // the account's RunTask limit: 20 calls per second
    return ecsError(res, 400, 'ThrottlingException', 'Rate exceeded');
  }
  stats.last_runtask = body;
  stats.runtask_tokens.push(body.clientToken);
  if (!taskdef) return ecsError(res, 400, 'ClientException', 'TaskDefinition not found.');
  const cluster = String(body.cluster || 'default').split('/').pop();
  if (cluster !== clusterName) return ecsError(res, 400, 'ClusterNotFoundException', 'Cluster not found.');
  const family = String(body.taskDefinition || '').split('/').pop().split(':')[0];
  if (family !== taskdef.family) return ecsError(res, 400, 'ClientException', 'TaskDefinition not found.');
  const strategy = body.capacityProviderStrategy;
  if (strategy !== undefined && body.launchType !== undefined)
    return ecsError(res, 400, 'InvalidParameterException', 'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  if (strategy !== undefined) {
    if (!Array.isArray(strategy) || strategy.length === 0 || strategy.length > 6 ||
        !strategy.every((x) => ['FARGATE', 'FARGATE_SPOT'].includes(x.capacityProvider) &&
          Number.isInteger(x.weight ?? 0) && x.weight >= 0 && x.weight <= 1000 &&
          Number.isInteger(x.base ?? 0) && x.base >= 0 && x.base <= 100000))
      return ecsError(res, 400, 'InvalidParameterException', 'The specified capacity provider strategy is not valid.');
  } else if (body.launchType !== 'FARGATE') return ecsError(res, 400, 'InvalidParameterException', 'launchType must be FARGATE here');
  const vpc = body.networkConfiguration && body.networkConfiguration.awsvpcConfiguration;
  if (!vpc || !Array.isArray(vpc.subnets) || vpc.subnets.length === 0)
    return ecsError(res, 400, 'InvalidParameterException', 'Network Configuration must be provided when networkMode \'awsvpc\' is specified.');
  if (vpc.assignPublicIp && !['ENABLED', 'DISABLED'].includes(vpc.assignPublicIp))
    return ecsError(res, 400, 'InvalidParameterException', 'assignPublicIp must be ENABLED or DISABLED');
  const overrides = body.overrides || {};
  for (const o of overrides.containerOverrides || []) {
    if (!taskdef.containerDefinitions.some((c) => c.name === o.name))
      return ecsError(res, 400, 'InvalidParameterException', `Override for container named ${o.name} is not a container in the TaskDefinition.`);
    for (const e of o.environment || [])
      if (typeof e.name !== 'string' || typeof e.value !== 'string')
        return ecsError(res, 400, 'InvalidParameterException', 'environment entries need a name and a value');
  }
  if (body.clientToken && tokenParams.has(body.clientToken) &&
      tokenParams.get(body.clientToken) !== canon({ ...body, clientToken: undefined }))
    return ecsError(res, 400, 'InvalidParameterException', 'The clientToken was used before with other parameters.');
  if (body.clientToken) tokenParams.set(body.clientToken, canon({ ...body, clientToken: undefined }));
  if (body.clientToken && tokens.has(body.clientToken))
    return ecsJson(res, 200, { tasks: [taskView(tasks.get(tokens.get(body.clientToken)))], failures: [] });
  if (fault.ecs_failures > 0) {
    fault.ecs_failures--;
    stats.faults_served++;
    return ecsJson(res, 200, { tasks: [], failures: [{ arn: `arn:aws:ecs:${region}:${accountId}:container-instance/${clusterName}`, reason: fault.ecs_failure_reason, detail: 'no capacity in the stand-in' }] });
  }
  const id = randomBytes(16).toString('hex');
  const t = {
    taskArn: `arn:aws:ecs:${region}:${accountId}:task/${clusterName}/${id}`,
    clusterArn: `arn:aws:ecs:${region}:${accountId}:cluster/${clusterName}`,
    taskDefinitionArn: `arn:aws:ecs:${region}:${accountId}:task-definition/${taskdef.family}:1`,
    lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', launchType: 'FARGATE',
    startedBy: body.startedBy, group: `family:${taskdef.family}`, createdAt: Date.now() / 1000,
    cpu: taskdef.cpu, memory: taskdef.memory, overrides,
    // the build container is the one the overrides name; ECS keeps no order, and here a
    // sidecar (the task definition's other containers) always comes first
    build: ((overrides.containerOverrides || [])[0] || taskdef.containerDefinitions[0]).name,
    containers: [...taskdef.containerDefinitions].reverse().map((c) => ({ name: c.name, lastStatus: 'PENDING' })),
    credId: randomBytes(8).toString('hex'),
  };
  tasks.set(t.taskArn, t);
  if (body.clientToken) tokens.set(body.clientToken, t.taskArn);
  const pending = fault.ecs_pending > 0 && fault.ecs_pending--;
  const crash = !pending && fault.ecs_crash > 0 && fault.ecs_crash--;
  setTimeout(() => {
    t.lastStatus = 'PENDING';
    if (!pending && t.desiredStatus !== 'STOPPED') setTimeout(() => startTask(t, crash), 100);
  }, 100);
  return ecsJson(res, 200, { tasks: [taskView(t)], failures: [] });
}
function describeTasks(res, body) {
  const out = { tasks: [], failures: [] };
  for (const arn of body.tasks || []) {
    const t = tasks.get(arn) || [...tasks.values()].find((x) => x.taskArn.endsWith(`/${arn}`));
    if (t) out.tasks.push(taskView(t));
    else out.failures.push({ arn, reason: 'MISSING' });
  }
  ecsJson(res, 200, out);
}
function stopTask(res, body) {
  const t = tasks.get(body.task);
  if (!t) return ecsError(res, 400, 'InvalidParameterException', 'The referenced task was not found.');
  t.desiredStatus = 'STOPPED';
  if (!t.stopCode) {
    t.stopCode = 'UserInitiated';
    t.stoppedReason = body.reason || 'Task stopped by user';
  }
  if (t.proc && t.lastStatus !== 'STOPPED') {
    t.lastStatus = 'DEACTIVATING';
    t.proc.kill('SIGTERM');
    setTimeout(() => t.proc.exitCode === null && t.proc.kill('SIGKILL'), 30000).unref();
  } else if (t.lastStatus !== 'STOPPED') {
    t.lastStatus = 'STOPPED';
    t.stoppedAt = Date.now() / 1000;
  }
  ecsJson(res, 200, { task: taskView(t) });
}
function ecs(req, res, body) {
  const target = req.headers['x-amz-target'] || '';
  const op = target.replace(/^AmazonEC2ContainerServiceV20141113\./, '');
  if (req.method !== 'POST' || op === target) return ecsError(res, 400, 'UnknownOperationException', 'unknown target');
  if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
    return ecsError(res, 400, 'SerializationException', 'Content-Type must be application/x-amz-json-1.1');
  stats.ecs[op] = (stats.ecs[op] || 0) + 1;
  if (fault.ecs_throttle > 0) {
    fault.ecs_throttle--;
    stats.faults_served++;
    return ecsError(res, 400, 'ThrottlingException', 'Rate exceeded');
  }
  let json;
  try {
    json = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return ecsError(res, 400, 'SerializationException', 'the body is not JSON');
  }
  stats.last_ecs[op] = json;   // for check/s3/ecs_shape.py
  if (op === 'RunTask') return runTask(res, json);
  if (op === 'DescribeTasks') return describeTasks(res, json);
  if (op === 'StopTask') return stopTask(res, json);
  return ecsError(res, 400, 'UnknownOperationException', `${op} is not part of the stand-in`);
}

// ---- container credentials, admin ----------------------------------------------------------
// STS AssumeRoleWithWebIdentity (unsigned, form body): the token must be the web_token the
// test set; the answer is STS's XML with credentials the S3 side accepts
function assumeRoleWithWebIdentity(res, form) {
  const ok = form.get('Version') === '2011-06-15' && form.get('RoleArn') && form.get('RoleSessionName') &&
    fault.web_token && form.get('WebIdentityToken') === fault.web_token;
  res.setHeader('Content-Type', 'text/xml');
  if (!ok) {
    stats.sts_refused++;
    res.writeHead(400);
    return res.end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>bad token</Message></Error></ErrorResponse>');
  }
  stats.sts_calls++;
  res.writeHead(200);
  res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>${stsCredentials(form.get('RoleArn'))}<SubjectFromWebIdentityToken>system:serviceaccount:skiff:web</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`);
}
// new temporary credentials the S3 side accepts, as STS's <Credentials> element
// (principal: whose they are, for the roles' trust)
function tempCredentials(principal) {
  const akid = 'ASIA' + randomBytes(8).toString('hex').toUpperCase();
  const t = { secretAccessKey: randomBytes(20).toString('base64'), sessionToken: randomBytes(64).toString('base64'), expires: Date.now() + fault.creds_ttl * 1000, principal };
  temp.set(akid, t);
  return [akid, t];
}
function stsCredentials(principal) {
  const [akid, t] = tempCredentials(principal);
  return `<Credentials><AccessKeyId>${akid}</AccessKeyId><SecretAccessKey>${t.secretAccessKey}</SecretAccessKey><SessionToken>${t.sessionToken}</SessionToken><Expiration>${new Date(t.expires).toISOString()}</Expiration></Credentials>`;
}
// STS AssumeRole: verify() has checked the SigV4 signature (service sts) with
// @smithy/signature-v4 and the caller's keys, and the session token of temporary ones; the
// role must be an IAM role ARN, the session name what STS allows, ExternalId the one the
// test set for the role (fault.external_id: a string for every role, or role -> id), the
// caller the principal the role trusts (fault.role_trust), and a role session assumed with
// another role's credentials (role chaining) may last an hour at most
function assumeRole(res, body, who) {
  const form = new URLSearchParams(body.toString('utf8'));
  const dur = form.get('DurationSeconds');
  const role = form.get('RoleArn') || '';
  const caller = who.accessKeyId === longTerm.accessKeyId ? 'long-term' : (temp.get(who.accessKeyId) || {}).principal || 'unknown';
  const chained = caller.startsWith('arn:aws:iam::');
  const ext = typeof fault.external_id === 'object' && fault.external_id ? fault.external_id[role] : fault.external_id;
  const trust = (fault.role_trust || {})[role];
  const ok = form.get('Action') === 'AssumeRole' && form.get('Version') === '2011-06-15' &&
    /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(role) &&
    /^[\w+=,.@-]{2,64}$/.test(form.get('RoleSessionName') || '') &&
    (dur === null || (Number(dur) >= 900 && Number(dur) <= 43200)) &&
    (form.get('ExternalId') || '') === (ext || '') &&
    (trust === undefined || trust === caller);
  res.setHeader('Content-Type', 'text/xml');
  if (!ok) {
    stats.sts_refused++;
    res.writeHead(403);
    return res.end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error></ErrorResponse>');
  }
  if (chained && dur !== null && Number(dur) > 3600) {
    stats.sts_refused++;
    res.writeHead(400);
    return res.end('<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.</Message></Error></ErrorResponse>');
  }
  stats.assume_role_calls++;
  stats.assume_role_last = { role, session: form.get('RoleSessionName'), caller: who.accessKeyId, caller_principal: caller, duration: dur, external_id: form.get('ExternalId') };
  stats.assume_role_log.push({ role, caller_principal: caller });
  res.writeHead(200);
  res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>${stsCredentials(role)}<AssumedRoleUser><AssumedRoleId>AROA:${form.get('RoleSessionName')}</AssumedRoleId><Arn>${role}</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`);
}
// IAM Identity Center's GetRoleCredentials (the portal, unsigned): the bearer token
// `aws sso login` cached must be fault.sso_token, else 401 UnauthorizedException as the
// portal answers an expired or signed-out token; account_id and role_name as the sso
// service model requires them (botocore's sso/service-2.json)
function ssoPortal(req, res) {
  const q = new URL(req.url, 'http://x').searchParams;
  stats.sso_last = { query: [...q.keys()].sort(), method: req.method, bearer: req.headers['x-amz-sso_bearer_token'] !== undefined };
  const json = (status, type, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...(type ? { 'x-amzn-ErrorType': type } : {}) });
    res.end(JSON.stringify(body));
  };
  if (!fault.sso_token || req.headers['x-amz-sso_bearer_token'] !== fault.sso_token) {
    stats.sso_refused++;
    return json(401, 'UnauthorizedException:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/', { message: 'Session token not found or invalid' });
  }
  const account = q.get('account_id') || '', role = q.get('role_name') || '';
  if (!/^\d{12}$/.test(account) || !role) return json(400, 'InvalidRequestException', { message: 'bad account_id or role_name' });
  stats.sso_calls++;
  const [akid, t] = tempCredentials(`sso:${role}`);
  json(200, null, { roleCredentials: { accessKeyId: akid, secretAccessKey: t.secretAccessKey, sessionToken: t.sessionToken, expiration: t.expires } });
}
function credentials(res, principal = 'container') {
  if (fault.creds_down) return ecsJson(res, 500, { message: 'agent unavailable' });
  stats.creds_fetched++;
  const [akid, t] = tempCredentials(principal);
  ecsJson(res, 200, {
    RoleArn: `arn:aws:iam::${accountId}:role/skiff-build-task`,
    AccessKeyId: akid, SecretAccessKey: t.secretAccessKey, Token: t.sessionToken,
    Expiration: new Date(t.expires).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
}
// EC2 IMDSv2: a session token from PUT /latest/api/token (the TTL header is required, as on
// EC2), then the role's name and credentials only with that token; IMDSv1 calls get 401
const imdsTokens = new Set();
function imds(req, res) {
  if (req.url === '/latest/api/token') {
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (req.method !== 'PUT' || !(ttl >= 1 && ttl <= 21600)) {
      stats.imds_refused++;
      res.writeHead(req.method !== 'PUT' ? 405 : 400);
      return res.end();
    }
    stats.imds_tokens++;
    const tok = randomBytes(24).toString('base64');
    imdsTokens.add(tok);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    return res.end(tok);
  }
  if (!imdsTokens.has(req.headers['x-aws-ec2-metadata-token'])) {
    stats.imds_refused++;
    res.writeHead(401);
    return res.end();
  }
  if (req.url === '/latest/meta-data/iam/security-credentials/') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end('skiff-web');
  }
  if (req.url === '/latest/meta-data/iam/security-credentials/skiff-web') {
    stats.imds_creds++;
    return credentials(res, 'imds');
  }
  res.writeHead(404);
  res.end();
}
function admin(req, res, body) {
  if (req.url === '/__admin/fault' && req.method === 'POST') {
    Object.assign(fault, JSON.parse(body.toString('utf8') || '{}'));
    return ecsJson(res, 200, fault);
  }
  if (req.url === '/__admin/stats') {
    const out = { ...stats, runtask_times: undefined, tasks: [...tasks.values()].map(taskView), fault };
    return ecsJson(res, 200, out);
  }
  if (req.url === '/__admin/reset' && req.method === 'POST') {
    for (const k of Object.keys(stats.s3)) stats.s3[k] = 0;
    stats.s3_keys = { GET: [], PUT: [] };
    stats.put_bytes = 0;
    return ecsJson(res, 200, {});
  }
  ecsJson(res, 404, {});
}

const server = createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    if (req.url.startsWith('/__admin/')) return admin(req, res, body);
    // a server whose clock differs from the client's says its own time in Date
    const offset = clockOffsetMs(!req.headers['x-amz-target']);
    if (offset) res.setHeader('Date', new Date(Date.now() + offset).toUTCString());
    if (req.method === 'GET' && req.url.startsWith('/v2/credentials/')) return credentials(res);
    if (req.url.startsWith('/latest/')) return imds(req, res);
    if (req.method === 'GET' && req.url.startsWith('/federation/credentials')) return ssoPortal(req, res);
    if (req.method === 'POST' && req.url === '/' && !req.headers.authorization) {
      const form = new URLSearchParams(body.toString('utf8'));
      if (form.get('Action') === 'AssumeRoleWithWebIdentity') return assumeRoleWithWebIdentity(res, form);
    }
    const isS3 = !req.headers['x-amz-target'];
    if (isS3 && fault.s3_down) {
      stats.faults_served++;
      return req.socket.destroy();
    }
    const who = await verify(req, res, body, isS3);
    if (!who) return;
    if (who.service === 'ecs') return ecs(req, res, body);
    if (who.service === 'sts') return assumeRole(res, body, who);
    if (who.service !== 's3') return s3Error(res, 400, 'InvalidRequest', `unknown service ${who.service}`);
    if (fault.s3_count > 0) {
      fault.s3_count--;
      stats.faults_served++;
      return s3Error(res, fault.s3_status, fault.s3_status === 503 ? 'SlowDown' : 'InternalError', 'Please reduce your request rate.');
    }
    if (fault.s3_delay_ms) await new Promise((r) => setTimeout(r, fault.s3_delay_ms));
    if (!checksumOk(req, res, body)) return;
    return s3Forward(req, res, body);
  } catch (e) {
    process.stderr.write(`endpoint error: ${e.stack}\n`);
    if (!res.headersSent) s3Error(res, 500, 'InternalError', 'stand-in failure');
  }
});

const s3 = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3rver'),
  vhostBuckets: false, configureBuckets: [{ name: bucket }],
});
const up = await s3.run();
upstreamPort = up.port;
server.listen(0, '127.0.0.1', () => {
  const tmp = `${args['port-file']}.tmp`;
  writeFileSync(tmp, `${server.address().port}\n`);
  renameSync(tmp, args['port-file']);
});
const stop = () => {
  for (const t of tasks.values()) if (t.proc && t.proc.exitCode === null) t.proc.kill('SIGKILL');
  server.close();
  s3.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

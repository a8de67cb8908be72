// sdk.mjs — reads what skiff wrote with the AWS SDK for JavaScript v3, as any other client of
// the bucket would: node sdk.mjs ENDPOINT BUCKET get KEY OUTFILE  (prints the Content-Type and
// Cache-Control, and the Content-Encoding when there is one), or ... list PREFIX (prints the key count, all pages).
import { S3Client, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';

const [endpoint, bucket, op, a, b] = process.argv.slice(2);
const client = new S3Client({
  endpoint, region: process.env.SKIFF_TEST_REGION || 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: process.env.SKIFF_TEST_ACCESS_KEY, secretAccessKey: process.env.SKIFF_TEST_SECRET_KEY },
});
if (op === 'get') {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: a }));
  writeFileSync(b, Buffer.from(await r.Body.transformToByteArray()));
  console.log(`${r.ContentType}|${r.CacheControl}${r.ContentEncoding ? `|${r.ContentEncoding}` : ''}`);
} else if (op === 'list') {
  let n = 0;
  let token;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: a, ContinuationToken: token }));
    n += (r.Contents || []).length;
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  console.log(n);
} else {
  console.error('usage: sdk.mjs ENDPOINT BUCKET get KEY OUTFILE | list PREFIX');
  process.exit(2);
}

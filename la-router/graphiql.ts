// GraphiQL for an LA's front-end developers, served by a router in development mode: the page at the
// GraphQL path (GET, Accept: text/html) and its scripts from the installed packages (GraphiQL 3 and
// React 18's browser builds), so nothing is fetched from a CDN. Production serves neither.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';

const require = createRequire(import.meta.url);
/** A file inside an installed package (by its package folder: these files are not in the packages' exports). */
const packageFile = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);
export const GRAPHIQL_PREFIX = '/graphiql/';

/** The example a developer starts from: the single view of one child. */
export const EXAMPLE_QUERY = `# The single view of a child. Every request about a child declares its purpose.
# Put a caseworker's access token in Headers, e.g. in the sandbox:
#   npm run -s mais -- token --la northshire --user <username>   (mais demo lists caseworkers and children)
query SingleView($nhsNumber: NhsNumber!) {
  child(nhsNumber: $nhsNumber, purpose: CHILD_PROTECTION_ENQUIRY) {
    nhsNumber
    demographics { givenNames familyName dateOfBirth }
    socialCare {
      status { openCase childProtectionPlan lookedAfter }
      referrals { referralDate primaryNeedCode }
    }
    education {
      enrolments { schoolName startDate }
      attendance { percentage persistentAbsence }
    }
    locations { custodian { name } recordType }
    sharedRecords {
      custodianName
      socialCare { openCase childProtectionPlan cpCategory lookedAfter allocatedTeam asOf }
    }
  }
}
`;

const assets = new Map<string, { file: string; type: string }>(Object.entries({
  'react.production.min.js': { file: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.production.min.js': { file: packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.min.js': { file: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.min.css': { file: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
}));

const start = (endpoint: string) => `const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(endpoint)} });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: ${JSON.stringify(EXAMPLE_QUERY)},
    defaultHeaders: ${JSON.stringify(JSON.stringify({ authorization: 'Bearer <access token>' }, null, 2))},
    variables: ${JSON.stringify(JSON.stringify({ nhsNumber: '' }, null, 2))},
    shouldPersistHeaders: false,
  }),
);
`;

const page = (la: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL · ${la} router</title>
<link rel="stylesheet" href="${GRAPHIQL_PREFIX}graphiql.min.css">
</head>
<body style="margin:0">
<div id="graphiql" style="height:100vh"></div>
<script src="${GRAPHIQL_PREFIX}react.production.min.js"></script>
<script src="${GRAPHIQL_PREFIX}react-dom.production.min.js"></script>
<script src="${GRAPHIQL_PREFIX}graphiql.min.js"></script>
<script src="${GRAPHIQL_PREFIX}start.js"></script>
</body>
</html>
`;

/** Apollo Server's landing page, replaced by GraphiQL. */
export function useGraphiQL(la: string): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return { async renderLandingPage() { return { html: page(la) }; } };
    },
  };
}

/** Serves GraphiQL's scripts and styles under /graphiql/; false for any other path. */
export function serveGraphiQLAsset(res: ServerResponse, pathname: string, endpoint: string): boolean {
  if (!pathname.startsWith(GRAPHIQL_PREFIX)) return false;
  const name = pathname.slice(GRAPHIQL_PREFIX.length);
  const file = assets.get(name);
  const asset = name === 'start.js' ? { body: start(endpoint), type: 'text/javascript' } : file ? { body: readFileSync(file.file), type: file.type } : null;
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not found');
    return true;
  }
  res.writeHead(200, { 'content-type': `${asset.type}; charset=utf-8`, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.end(asset.body);
  return true;
}

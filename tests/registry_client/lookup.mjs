// DCC's own registry client asks a registry list which registries know a DID, as the
// Learner Credential Wallet and VerifierPlus do. Run by tests/verification/test_registries_client.py:
//   node lookup.mjs <known-registries URL> <did>
// It reads the known-registries list we publish, hands it to the client unchanged, and prints
// the client's LookupResult as JSON.
import { RegistryClient } from '@digitalcredentials/issuer-registry-client'

const [knownUrl, did] = process.argv.slice(2)
const response = await fetch(knownUrl)
if (!response.ok) {
  console.error(`known registries: HTTP ${response.status}`)
  process.exit(2)
}
const knownRegistries = await response.json()
const client = new RegistryClient()
client.use({ registries: knownRegistries })
const result = await client.lookupIssuersFor(did)
process.stdout.write(JSON.stringify(result))

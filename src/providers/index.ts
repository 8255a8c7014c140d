// The provider catalogue: every built-in definition, looked up by name or alias.
export { type AppEndpoints, type AppSettings, resolveAppEndpoints } from './endpoints.js'
export type { ProviderOverride } from './overrides.js'
export { builtInProviders } from './platforms.js'
export {
  type CatalogueEntry,
  findProvider,
  getProvider,
  listProviders,
  ProviderCatalogue,
  type ProviderSource,
  registerProvider,
} from './registry.js'
export {
  defineProvider,
  type Grant,
  type ProviderDefinition,
  type ProviderDefinitionInput,
} from './schema.js'
export { extractPath, fillBody, fillTemplate, fillTemplates, type TemplateContext } from './template.js'

/**
 * The handler registry: every handler this host can run. Adding a handler is one folder
 * with its unit plus one line here; validation, `describe`, wiring, docs and the JSON
 * Schema follow from it.
 */
import type { HandlerCatalog, HandlerType } from '@onex/core';
import { consulUnit } from './consul/consul-unit.js';
import { dbUnit } from './db/db-unit.js';
import { catalogEntryOf, type HandlerUnit } from './handler-unit.js';
import { httpUnit } from './http/http-unit.js';
import { localUnit } from './local/local-unit.js';
import { vaultUnit } from './vault/vault-unit.js';

/** The registered handler units, one per type. */
export const HANDLER_UNITS: readonly HandlerUnit[] = Object.freeze([httpUnit, dbUnit, vaultUnit, consulUnit, localUnit]);

/** The catalog core validates contracts against, built from `units`. */
export function handlerCatalog(units: readonly HandlerUnit[] = HANDLER_UNITS): HandlerCatalog {
  const catalog: Partial<Record<HandlerType, ReturnType<typeof catalogEntryOf>>> = {};
  for (const unit of units) catalog[unit.type] = catalogEntryOf(unit);
  return Object.freeze(catalog);
}

/** The catalog of the registered units (one object, so core caches its schema). */
export const HANDLER_CATALOG: HandlerCatalog = handlerCatalog();

/** The unit of a handler type, if registered. */
export function findHandlerUnit(type: string, units: readonly HandlerUnit[] = HANDLER_UNITS): HandlerUnit | undefined {
  return units.find((unit) => unit.type === type);
}

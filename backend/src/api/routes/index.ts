// Every /api/v1 route module. Each route declares its roles (config.roles); rbac.ts enforces them.
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../db/client.ts';
import type { Enqueuer } from '../../queue/enqueuer.ts';
import { coLeadRoutes } from './coLeads.ts';
import { dashboardRoutes } from './dashboard.ts';
import { dealRoutes } from './deals.ts';
import { modelRoutes } from './models.ts';
import { repRoutes } from './reps.ts';
import { segmentRoutes } from './segments.ts';

export const v1Routes: FastifyPluginAsync<{ database: Database; enqueuer: Enqueuer }> = async (
  app,
  opts
) => {
  await app.register(dealRoutes, opts);
  await app.register(coLeadRoutes, opts);
  await app.register(repRoutes, opts);
  await app.register(segmentRoutes, opts);
  await app.register(modelRoutes, opts);
  await app.register(dashboardRoutes, opts);
};

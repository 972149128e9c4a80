// What the load balancer measured for one colour, read from CloudWatch: requests, target 5xx answers
// and the p95 target response time over a window, and the state of the colour's alarms. Measuring
// only; the verdict is the contract's (ops/contract.ts).
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  type CloudWatchClient,
  type MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";

/** The CloudWatch dimensions of a colour behind the ALB (the ARN suffixes `app/…` and `targetgroup/…`). */
export interface AlbScope {
  readonly loadBalancer: string;
  readonly targetGroup: string;
}

export interface AlbReading {
  readonly requests: number;
  readonly errors5xx: number;
  /** Null when the window holds no response-time data point. */
  readonly p95LatencyMs: number | null;
  readonly from: string;
  readonly to: string;
}

const namespace = "AWS/ApplicationELB";

export { dimensionOf } from "../names";

function dimensions(scope: AlbScope) {
  return [
    { Name: "LoadBalancer", Value: scope.loadBalancer },
    { Name: "TargetGroup", Value: scope.targetGroup },
  ];
}

function query(id: string, metric: string, stat: string, scope: AlbScope): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: namespace, MetricName: metric, Dimensions: dimensions(scope) },
      // ALB metrics are published per minute, so a finer period only adds empty buckets.
      Period: 60,
      Stat: stat,
    },
    ReturnData: true,
  };
}

/** Whole minutes around `[from, to]`: ALB data points are stamped at the start of their minute. */
export function metricWindow(from: Date, to: Date): { start: Date; end: Date } {
  const minute = 60_000;
  const start = new Date(Math.floor(from.getTime() / minute) * minute);
  const end = new Date(Math.max(start.getTime() + minute, Math.ceil(to.getTime() / minute) * minute));
  return { start, end };
}

export async function readAlbMetrics(
  cloudWatch: CloudWatchClient,
  args: { scope: AlbScope; from: Date; to: Date },
): Promise<AlbReading> {
  const { start, end } = metricWindow(args.from, args.to);
  const values = new Map<string, number[]>();
  let nextToken: string | undefined;
  do {
    const answer = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        MetricDataQueries: [
          query("requests", "RequestCount", "Sum", args.scope),
          query("errors", "HTTPCode_Target_5XX_Count", "Sum", args.scope),
        ],
        NextToken: nextToken,
      }),
    );
    for (const result of answer.MetricDataResults ?? []) {
      const list = values.get(result.Id ?? "") ?? [];
      list.push(...(result.Values ?? []).filter((v): v is number => typeof v === "number"));
      values.set(result.Id ?? "", list);
    }
    nextToken = answer.NextToken;
  } while (nextToken);
  const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
  // Percentiles through GetMetricStatistics' extended statistics: one data point per minute.
  const latency = await cloudWatch.send(
    new GetMetricStatisticsCommand({
      Namespace: namespace,
      MetricName: "TargetResponseTime",
      Dimensions: dimensions(args.scope),
      StartTime: start,
      EndTime: end,
      Period: 60,
      ExtendedStatistics: ["p95"],
    }),
  );
  const p95s = (latency.Datapoints ?? []).flatMap((point) => {
    const value = point.ExtendedStatistics?.["p95"];
    return typeof value === "number" ? [value] : [];
  });
  return {
    requests: sum("requests"),
    errors5xx: sum("errors"),
    // The worst minute's p95 (TargetResponseTime is in seconds).
    p95LatencyMs: p95s.length === 0 ? null : Math.round(Math.max(...p95s) * 1000),
    from: start.toISOString(),
    to: end.toISOString(),
  };
}

export interface AlarmState {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
}

/** The alarms' states (OK, ALARM, INSUFFICIENT_DATA); a missing alarm is reported as MISSING. */
export async function readAlarms(
  cloudWatch: CloudWatchClient,
  names: readonly string[],
): Promise<AlarmState[]> {
  if (names.length === 0) return [];
  const answer = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [...names] }));
  return names.map((name) => {
    const alarm = answer.MetricAlarms?.find((a) => a.AlarmName === name);
    return {
      name,
      state: alarm?.StateValue ?? "MISSING",
      reason: alarm?.StateReason ?? "the alarm does not exist",
    };
  });
}

// The emulator tests' AWS clients: the same factories the platform uses, pointed at moto_server with
// throw-away credentials (moto accepts any). Each test file uses its own region, so files never see
// each other's objects.
import { inject } from "vitest";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import type { AwsTarget } from "../../platforms/aws/ops/clients";

export function emulatorTarget(region: string): AwsTarget {
  process.env["AWS_ACCESS_KEY_ID"] = "shipgate-emulator";
  process.env["AWS_SECRET_ACCESS_KEY"] = "shipgate-emulator";
  delete process.env["AWS_SESSION_TOKEN"];
  delete process.env["AWS_PROFILE"];
  return { region, endpoint: inject("motoEndpoint") };
}

/** A VPC with two subnets in two zones and a security group, as an ALB and Fargate tasks need. */
export async function network(target: AwsTarget) {
  const ec2 = new EC2Client({ region: target.region, endpoint: target.endpoint ?? undefined });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
  const vpcId = vpc.Vpc?.VpcId ?? "";
  const subnets: string[] = [];
  for (const [index, zone] of ["a", "b"].entries()) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.0.${index}.0/24`,
        AvailabilityZone: `${target.region}${zone}`,
      }),
    );
    subnets.push(subnet.Subnet?.SubnetId ?? "");
  }
  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `sg-${Date.now()}`,
      Description: "shipgate test",
      VpcId: vpcId,
    }),
  );
  return { vpcId, subnets, securityGroup: group.GroupId ?? "" };
}

import type { JSONSchema } from '../kind.ts';
import { array, boolean, map, object, string } from '../schema/build.ts';

const userInfo = object('A user as authentication found it.', {
  username: string('User name.'),
  uid: string('UID of the user.'),
  groups: array('Groups of the user.', string('Group name.')),
  extra: map('Extra attributes of the user.', array('Values.', string('Value.'))),
});

export const tokenReviewSchema: JSONSchema = object(
  'TokenReview asks whom a bearer token authenticates as (authentication.k8s.io/v1); answered, never stored.',
  {
    spec: object('The token to check.', {
      token: string('The bearer token.'),
      audiences: array(
        "Audiences the token must be meant for (one of them); the API server's own when empty.",
        string('An audience.'),
      ),
    }),
    status: object('The answer, filled in by the server.', {
      authenticated: boolean('Whether the token authenticates.'),
      user: userInfo,
      audiences: array('The audiences the token was found valid for.', string('An audience.')),
      error: string('Why the token does not authenticate.'),
    }),
  },
  { required: ['spec'] },
);

export const selfSubjectReviewSchema: JSONSchema = object(
  'SelfSubjectReview tells the caller whom the request authenticated as (`kubectl auth whoami`); answered, never ' +
    'stored.',
  { status: object('The answer, filled in by the server.', { userInfo }) },
);

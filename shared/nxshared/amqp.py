"""Publishing with publisher confirms and ``mandatory=True``: a message the broker did not take,
or could not route, raises instead of vanishing."""

from nameko.amqp.publish import Publisher


def publisher_for(amqp_uri):
    return Publisher(amqp_uri, use_confirms=True, mandatory=True, serializer="json")

import factory
from factory.django import DjangoModelFactory

from accounts.models import Partner, User

PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name", locale="fr_FR")
    role = User.Role.PARTNER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class AdminUserFactory(UserFactory):
    email = factory.Sequence(lambda n: f"admin{n}@example.com")
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    user = factory.SubFactory(UserFactory)
    store_name = factory.Sequence(lambda n: f"Librairie {n}")
    contact_name = factory.Faker("name", locale="fr_FR")
    address = factory.Faker("street_address", locale="fr_FR")
    postal_code = factory.Faker("postcode", locale="fr_FR")
    city = factory.Faker("city", locale="fr_FR")
    phone = "01 23 45 67 89"
